extension SessionDescription {
    /// Parses an SDP body (RFC 4566 §5).
    ///
    /// Generous where real agents differ: CRLF or bare LF line ends, trailing
    /// whitespace, blank lines, lines of unknown type and session-only lines
    /// inside a media section are skipped (RFC 4566 §5: unknown types are
    /// ignored); a missing `s=` reads as `-` and a missing `t=` as `t=0 0`.
    /// Strict where a mistake would mis-route media: `v=0` must come first,
    /// `o=`, `c=`, `t=`, `b=` and `m=` must have their fields.
    public static func parse(_ text: String) throws(SDPParseError) -> SessionDescription {
        var parser = Parser()
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            try parser.consume(line: rawLine, number: lineNumber)
        }
        return try parser.finish(lineCount: lineNumber)
    }

    /// The parse state: which section we are in and what was seen so far.
    private struct Parser {
        var sawVersion = false
        var description = SessionDescription(origin: SDPOrigin(sessionID: "0", sessionVersion: 0, address: "0.0.0.0"), timing: [])
        var sawOrigin = false
        var sawSessionName = false
        var currentMedia: MediaDescription?

        mutating func consume(line rawLine: Substring, number: Int) throws(SDPParseError) {
            let line = rawLine.trimmingTrailingSDPWhitespace()
            if line.isEmpty { return }
            let chars = line.utf8
            guard chars.count >= 2, let type = chars.first, Self.isASCIILetter(type),
                  chars[chars.index(after: chars.startIndex)] == UInt8(ascii: "=")
            else {
                throw SDPParseError(line: number, kind: .malformedLine, message: "expected '<type>=<value>', found '\(line)'")
            }
            let value = String(line.dropFirst(2))

            if !sawVersion {
                guard type == UInt8(ascii: "v") else {
                    throw SDPParseError(line: number, kind: .versionNotFirst, message: "the first line must be 'v=0'")
                }
                guard value.trimmingSDPWhitespace() == "0" else {
                    throw SDPParseError(line: number, kind: .unsupportedVersion, message: "unsupported SDP version '\(value)'")
                }
                sawVersion = true
                description.version = 0
                return
            }

            if type == UInt8(ascii: "m") {
                flushMedia()
                currentMedia = try Self.parseMedia(value, line: number)
                return
            }
            if currentMedia != nil {
                try consumeMediaLine(type: type, value: value, number: number)
            } else {
                try consumeSessionLine(type: type, value: value, number: number)
            }
        }

        mutating func consumeSessionLine(type: UInt8, value: String, number: Int) throws(SDPParseError) {
            switch type {
            case UInt8(ascii: "o"):
                guard !sawOrigin else { return }
                description.origin = try Self.parseOrigin(value, line: number)
                sawOrigin = true
            case UInt8(ascii: "s"):
                guard !sawSessionName else { return }
                description.sessionName = value
                sawSessionName = true
            case UInt8(ascii: "i"): description.information = value
            case UInt8(ascii: "u"): description.uri = value
            case UInt8(ascii: "e"): description.emailAddresses.append(value)
            case UInt8(ascii: "p"): description.phoneNumbers.append(value)
            case UInt8(ascii: "c"): description.connection = try Self.parseConnection(value, line: number)
            case UInt8(ascii: "b"): description.bandwidths.append(try Self.parseBandwidth(value, line: number))
            case UInt8(ascii: "t"): description.timing.append(try Self.parseTiming(value, line: number))
            case UInt8(ascii: "r"):
                if !description.timing.isEmpty { description.timing[description.timing.count - 1].repeats.append(value) }
            case UInt8(ascii: "z"): description.timeZones = value
            case UInt8(ascii: "k"): description.encryptionKey = value
            case UInt8(ascii: "a"):
                if let attribute = Self.parseAttribute(value) { description.attributes.append(attribute) }
            default:
                return  // RFC 4566 §5: unknown types are ignored.
            }
        }

        mutating func consumeMediaLine(type: UInt8, value: String, number: Int) throws(SDPParseError) {
            switch type {
            case UInt8(ascii: "i"): currentMedia?.information = value
            case UInt8(ascii: "c"):
                // Several c= lines only occur with multicast layering; the first is the one to use.
                let connection = try Self.parseConnection(value, line: number)
                if currentMedia?.connection == nil { currentMedia?.connection = connection }
            case UInt8(ascii: "b"): currentMedia?.bandwidths.append(try Self.parseBandwidth(value, line: number))
            case UInt8(ascii: "k"): currentMedia?.encryptionKey = value
            case UInt8(ascii: "a"):
                if let attribute = Self.parseAttribute(value) { currentMedia?.attributes.append(attribute) }
            default:
                return
            }
        }

        mutating func flushMedia() {
            if let media = currentMedia {
                description.media.append(media)
                currentMedia = nil
            }
        }

        mutating func finish(lineCount: Int) throws(SDPParseError) -> SessionDescription {
            guard sawVersion else {
                throw SDPParseError(line: 0, kind: .empty, message: "empty session description")
            }
            guard sawOrigin else {
                throw SDPParseError(line: lineCount, kind: .missingOrigin, message: "the 'o=' line is missing")
            }
            flushMedia()
            if !sawSessionName { description.sessionName = "-" }
            if description.timing.isEmpty { description.timing = [SDPTiming()] }
            return description
        }

        static func fields(_ value: String) -> [Substring] {
            // Split on Unicode scalars, not Characters: SDP separates fields with a byte (SP,
            // RFC 4566 §9), but a space followed by a combining mark is one Character, so the
            // fields " \u{0736}x" did not separate and an answer echoing an offer's odd formats
            // did not parse back to itself (found by Benchmarks/Fuzz FuzzSDP).
            value.unicodeScalars.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { Substring($0) }
        }

        static func parseOrigin(_ value: String, line: Int) throws(SDPParseError) -> SDPOrigin {
            let f = fields(value)
            guard f.count == 6, let version = UInt64(f[2]), f[1].allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw SDPParseError(line: line, kind: .malformedOrigin,
                                    message: "expected 'o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>', found 'o=\(value)'")
            }
            return SDPOrigin(username: String(f[0]), sessionID: String(f[1]), sessionVersion: version,
                             netType: String(f[3]), addressType: String(f[4]), address: String(f[5]))
        }

        static func parseConnection(_ value: String, line: Int) throws(SDPParseError) -> SDPConnection {
            let f = fields(value)
            guard f.count == 3 else {
                throw SDPParseError(line: line, kind: .malformedConnection,
                                    message: "expected 'c=<nettype> <addrtype> <address>', found 'c=\(value)'")
            }
            return SDPConnection(netType: String(f[0]), addressType: String(f[1]), address: String(f[2]))
        }

        static func parseBandwidth(_ value: String, line: Int) throws(SDPParseError) -> SDPBandwidth {
            let trimmed = value.trimmingSDPWhitespace()
            guard let colon = trimmed.firstIndex(of: ":"), colon != trimmed.startIndex,
                  let number = UInt64(trimmed[trimmed.index(after: colon)...])
            else {
                throw SDPParseError(line: line, kind: .malformedBandwidth,
                                    message: "expected 'b=<bwtype>:<bandwidth>', found 'b=\(value)'")
            }
            return SDPBandwidth(type: String(trimmed[..<colon]), value: number)
        }

        static func parseTiming(_ value: String, line: Int) throws(SDPParseError) -> SDPTiming {
            let f = fields(value)
            guard f.count == 2, let start = UInt64(f[0]), let stop = UInt64(f[1]) else {
                throw SDPParseError(line: line, kind: .malformedTiming,
                                    message: "expected 't=<start-time> <stop-time>', found 't=\(value)'")
            }
            return SDPTiming(start: start, stop: stop)
        }

        static func parseAttribute(_ value: String) -> SDPAttribute? {
            if let colon = value.firstIndex(of: ":") {
                let name = value[..<colon]
                guard !name.isEmpty else { return nil }
                return SDPAttribute(name: String(name), value: String(value[value.index(after: colon)...]))
            }
            let name = value.trimmingSDPWhitespace()
            return name.isEmpty ? nil : SDPAttribute(name: name)
        }

        static func parseMedia(_ value: String, line: Int) throws(SDPParseError) -> MediaDescription {
            let f = fields(value)
            let malformed = SDPParseError(line: line, kind: .malformedMedia,
                                          message: "expected 'm=<media> <port>[/<number of ports>] <proto> <fmt> ...', found 'm=\(value)'")
            guard f.count >= 3 else { throw malformed }
            let portField = f[1].split(separator: "/", omittingEmptySubsequences: false)
            guard portField.count <= 2, let port = UInt16(portField[0]) else { throw malformed }
            var portCount: Int?
            if portField.count == 2 {
                guard let count = Int(portField[1]), count > 0 else { throw malformed }
                portCount = count
            }
            let formats = f.dropFirst(3).map(String.init)
            // RFC 4566 §5.14 requires a format; tolerate none only on a rejected (port 0) line.
            guard !formats.isEmpty || port == 0 else { throw malformed }
            return MediaDescription(media: String(f[0]), port: port, portCount: portCount,
                                    proto: String(f[2]), formats: formats)
        }

        static func isASCIILetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        }
    }
}

extension Substring {
    /// The line without trailing spaces, tabs and line-end characters.
    func trimmingTrailingSDPWhitespace() -> Substring {
        var end = endIndex
        while end > startIndex {
            let previous = index(before: end)
            let c = self[previous]
            guard c == " " || c == "\t" || c.isNewline else { break }
            end = previous
        }
        return self[startIndex..<end]
    }
}
