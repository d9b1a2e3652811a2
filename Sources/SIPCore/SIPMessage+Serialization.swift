import NIOCore

extension SIPRequest {
    /// Serializes with a Content-Length that always matches the body (§20.14).
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeString("\(method.rawValue) \(uri) SIP/2.0\r\n")
        SIPSerialization.writeHeadersAndBody(headers, body, into: &buffer)
    }
    public var serialized: [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 512 + body.count)
        write(into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// The size `write(into:)` produces, counted without writing (RFC 3261 §18.1.1's check
    /// of a request against the path MTU).
    public var serializedCount: Int {
        var count = method.rawValue.utf8.count + 1 + uri.description.utf8.count + 10 // " SIP/2.0\r\n"
        var hasLength = false
        for field in headers.fields {
            if field.name == .contentLength {
                if hasLength { continue }
                hasLength = true
                count += field.name.rawValue.utf8.count + 4 + String(body.count).utf8.count
            } else {
                count += field.name.rawValue.utf8.count + 4 + field.value.utf8.count
            }
        }
        if !hasLength { count += SIPHeaderName.contentLength.rawValue.utf8.count + 4 + String(body.count).utf8.count }
        return count + 2 + body.count
    }
}

extension SIPResponse {
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeString("SIP/2.0 \(status.rawValue) \(reasonPhrase)\r\n")
        SIPSerialization.writeHeadersAndBody(headers, body, into: &buffer)
    }
    public var serialized: [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 512 + body.count)
        write(into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

extension SIPMessage {
    public func write(into buffer: inout ByteBuffer) {
        switch self {
        case .request(let r): r.write(into: &buffer)
        case .response(let r): r.write(into: &buffer)
        }
    }
    public var serialized: [UInt8] {
        switch self {
        case .request(let r): r.serialized
        case .response(let r): r.serialized
        }
    }
}

enum SIPSerialization {
    static func writeHeadersAndBody(_ headers: SIPHeaders, _ body: [UInt8], into buffer: inout ByteBuffer) {
        // Content-Length is written where it stood (so a parsed message round-trips byte for
        // byte) but always with the real body size; appended last if absent.
        var wroteLength = false
        for field in headers.fields {
            let isLength = field.name == .contentLength
            if isLength && wroteLength { continue }
            buffer.writeString(field.name.rawValue)
            buffer.writeStaticString(": ")
            if isLength {
                wroteLength = true
                buffer.writeString(field.value == String(body.count) ? field.value : String(body.count))
            } else {
                buffer.writeString(field.value)
            }
            buffer.writeStaticString("\r\n")
        }
        if !wroteLength { buffer.writeString("Content-Length: \(body.count)\r\n") }
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(body)
    }
}
