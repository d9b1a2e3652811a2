// SIPTransport: the NIO channels SIP travels on.
// This file: cutting a TCP or TLS byte stream into SIP messages (RFC 3261 §18.3), sans-IO.
// On a stream the message ends where Content-Length says, so a peer decides how much we
// buffer: the framer bounds the header and the body, and reports when a message has been
// arriving for too long (a slow peer holding a connection is cut off, not waited for). CRLFs
// between messages are skipped (§7.5); a double CRLF there is an RFC 5626 §3.5.1 keep-alive
// ping, answered with a single CRLF (the pong).

/// Frames SIP messages out of a byte stream. Feed it bytes as they arrive; it returns the
/// complete messages, and keep-alive pings and pongs. After an error the stream is beyond
/// repair (we no longer know where a message starts): the connection must be closed.
public struct SIPStreamFramer: Sendable {
    public struct Limits: Sendable, Equatable {
        /// The start line and headers, up to and including the blank line.
        public var maxHeaderBytes: Int
        /// The body (Content-Length).
        public var maxBodyBytes: Int
        /// From a message's first byte to its last (milliseconds): a peer sending a header a
        /// byte at a time is cut off after this (slow-loris).
        public var maxMessageMilliseconds: Int64

        /// Generous for SIP (a 100 KB INVITE passes), small for memory: at most about 1.1 MiB
        /// is buffered per connection.
        public init(maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 1024 * 1024, maxMessageMilliseconds: Int64 = 30_000) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
            self.maxMessageMilliseconds = maxMessageMilliseconds
        }
    }

    public enum Output: Equatable, Sendable {
        /// A complete message: its start line, headers, blank line and body, as received.
        case message([UInt8])
        /// A keep-alive ping (CRLF CRLF between messages): answer with ``pong``.
        case ping
        /// A single CRLF between messages: the pong to our ping (or padding).
        case pong
    }

    public enum FramingError: Error, Equatable, Sendable, CustomStringConvertible {
        /// No blank line within `limit` bytes.
        case headerTooLong(limit: Int)
        case bodyTooLong(declared: Int, limit: Int)
        /// A stream message must say where it ends (RFC 3261 §18.3).
        case missingContentLength
        case invalidContentLength(String)
        /// The message was still incomplete `limit` milliseconds after its first byte.
        case tooSlow(limit: Int64)

        public var description: String {
            switch self {
            case .headerTooLong(let limit): "no end of the header within \(limit) bytes"
            case .bodyTooLong(let declared, let limit): "Content-Length \(declared) is over the limit of \(limit) bytes"
            case .missingContentLength: "a message on a stream needs Content-Length (RFC 3261 §18.3)"
            case .invalidContentLength(let value): "Content-Length '\(value)' is not a number"
            case .tooSlow(let limit): "a message still incomplete \(limit) ms after its first byte"
            }
        }
    }

    /// The keep-alive bytes of RFC 5626 §3.5.1.
    public static let pong: [UInt8] = [13, 10]
    public static let ping: [UInt8] = [13, 10, 13, 10]

    public let limits: Limits
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already consumed (compacted once a message is cut out).
    private var start = 0
    /// The body's length once the header has been read.
    private var bodyLength: Int?
    private var headerLength = 0
    /// Where the search for the header's end resumes: each byte is looked at once, however
    /// thinly a peer slices its header.
    private var scanFrom = 0
    /// When the current message's first byte arrived.
    public private(set) var messageStartedAt: Int64?
    private var failure: FramingError?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes held for a message not yet complete.
    public var bufferedBytes: Int { buffer.count - start }

    /// True while part of a message has arrived and its end has not.
    public var isInsideMessage: Bool { messageStartedAt != nil }

    /// Takes the bytes that arrived at `now` (milliseconds, any monotonic origin) and returns
    /// what they complete, in order.
    public mutating func receive(_ bytes: some Collection<UInt8>, now: Int64) throws(FramingError) -> [Output] {
        if let failure { throw failure }
        buffer.append(contentsOf: bytes)
        var outputs: [Output] = []
        do {
            while let output = try next(now: now) { outputs.append(output) }
            try check(now: now)
        } catch {
            failure = error
            throw error
        }
        compact()
        return outputs
    }

    /// For the transport's timer: throws once the message in progress has taken too long.
    public mutating func check(now: Int64) throws(FramingError) {
        if let failure { throw failure }
        if let began = messageStartedAt, now - began > limits.maxMessageMilliseconds {
            failure = .tooSlow(limit: limits.maxMessageMilliseconds)
            throw .tooSlow(limit: limits.maxMessageMilliseconds)
        }
    }

    // MARK: - Cutting

    private mutating func next(now: Int64) throws(FramingError) -> Output? {
        if messageStartedAt == nil {
            // Between messages: CRLFs are keep-alives, anything else starts a message.
            if remaining >= 4, matches(Self.ping, at: start) {
                start += 4
                return .ping
            }
            if remaining >= 2, matches(Self.pong, at: start) {
                // A CRLF that may be the first half of a ping: wait for what follows.
                if remaining == 2 || (remaining == 3 && buffer[start + 2] == 13) { return nil }
                start += 2
                return .pong
            }
            if remaining == 1, buffer[start] == 13 { return nil }
            guard remaining > 0 else { return nil }
            messageStartedAt = now
        }
        if bodyLength == nil {
            guard let end = findHeaderEnd() else {
                if remaining > limits.maxHeaderBytes { throw .headerTooLong(limit: limits.maxHeaderBytes) }
                return nil
            }
            headerLength = end - start
            if headerLength > limits.maxHeaderBytes { throw .headerTooLong(limit: limits.maxHeaderBytes) }
            let length = try Self.contentLength(buffer[start..<end])
            if length > limits.maxBodyBytes { throw .bodyTooLong(declared: length, limit: limits.maxBodyBytes) }
            bodyLength = length
        }
        let total = headerLength + bodyLength!
        guard remaining >= total else { return nil }
        let message = Array(buffer[start..<start + total])
        start += total
        scanFrom = start
        bodyLength = nil
        messageStartedAt = nil
        return .message(message)
    }

    private var remaining: Int { buffer.count - start }

    private func matches(_ pattern: [UInt8], at index: Int) -> Bool {
        buffer.count - index >= pattern.count && buffer[index..<index + pattern.count].elementsEqual(pattern)
    }

    /// The index just past the header's blank line (CRLF CRLF; bare LF LF tolerated as the
    /// datagram parser does), or nil if it has not arrived.
    private mutating func findHeaderEnd() -> Int? {
        var i = max(start, scanFrom)
        while i + 1 < buffer.count {
            if buffer[i] == 10 {
                if buffer[i + 1] == 10 { return i + 2 }
                if buffer[i + 1] == 13 {
                    guard i + 2 < buffer.count else { break }
                    if buffer[i + 2] == 10 { return i + 3 }
                }
            }
            i += 1
        }
        scanFrom = i
        return nil
    }

    private mutating func compact() {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            start = 0
            scanFrom = 0
        } else if start > 32 * 1024, start * 2 > buffer.count {
            buffer.removeFirst(start)
            scanFrom -= start
            start = 0
        }
    }

    /// The value of Content-Length (or its compact form `l`) in a header block.
    static func contentLength(_ header: ArraySlice<UInt8>) throws(FramingError) -> Int {
        var found: Int?
        var lineStart = header.startIndex
        var index = header.startIndex
        var first = true
        while index <= header.endIndex {
            if index == header.endIndex || header[index] == 10 {
                var line = header[lineStart..<index]
                if line.last == 13 { line = line.dropLast() }
                // The start line is not a header; folded lines continue the previous one.
                if !first, let value = try Self.contentLengthValue(line) {
                    if let found, found != value { throw .invalidContentLength("\(found) and \(value) in one message") }
                    found = value
                }
                first = false
                lineStart = index + 1
            }
            index += 1
        }
        guard let found else { throw .missingContentLength }
        return found
    }

    private static func contentLengthValue(_ line: ArraySlice<UInt8>) throws(FramingError) -> Int? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).trimmingWhitespace().lowercased()
        guard name == "content-length" || name == "l" else { return nil }
        let text = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingWhitespace()
        guard !text.isEmpty, text.count <= 10, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(text) else {
            throw .invalidContentLength(String(text.prefix(40)))
        }
        return value
    }
}

private extension String {
    func trimmingWhitespace() -> String {
        let bytes = Array(utf8)
        var lower = 0, upper = bytes.count
        while lower < upper, bytes[lower] == 32 || bytes[lower] == 9 { lower += 1 }
        while upper > lower, bytes[upper - 1] == 32 || bytes[upper - 1] == 9 { upper -= 1 }
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }
}
