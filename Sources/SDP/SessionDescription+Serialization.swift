extension SessionDescription {
    /// The description as SDP text: CRLF line ends and the line order of
    /// RFC 4566 §5 (v o s i u e p c b t r z k a, then each m i c b k a).
    public func serialize() -> String {
        var out = ""
        out.reserveCapacity(256 + media.count * 256)
        func line(_ type: Character, _ value: String) {
            out.append(type)
            out.append("=")
            out.append(value)
            out.append("\r\n")
        }
        line("v", String(version))
        line("o", "\(origin.username) \(origin.sessionID) \(origin.sessionVersion) \(origin.netType) \(origin.addressType) \(origin.address)")
        line("s", sessionName)
        if let information { line("i", information) }
        if let uri { line("u", uri) }
        for email in emailAddresses { line("e", email) }
        for phone in phoneNumbers { line("p", phone) }
        if let connection { line("c", connection.lineValue) }
        for bandwidth in bandwidths { line("b", bandwidth.lineValue) }
        for time in (timing.isEmpty ? [SDPTiming()] : timing) {
            line("t", "\(time.start) \(time.stop)")
            for repeatLine in time.repeats { line("r", repeatLine) }
        }
        if let timeZones { line("z", timeZones) }
        if let encryptionKey { line("k", encryptionKey) }
        for attribute in attributes { line("a", attribute.lineValue) }
        for m in media {
            var mLine = "\(m.media) \(m.port)"
            if let portCount = m.portCount { mLine += "/\(portCount)" }
            mLine += " \(m.proto)"
            for format in m.formats { mLine += " \(format)" }
            line("m", mLine)
            if let information = m.information { line("i", information) }
            if let connection = m.connection { line("c", connection.lineValue) }
            for bandwidth in m.bandwidths { line("b", bandwidth.lineValue) }
            if let key = m.encryptionKey { line("k", key) }
            for attribute in m.attributes { line("a", attribute.lineValue) }
        }
        return out
    }
}

extension SDPConnection {
    var lineValue: String { "\(netType) \(addressType) \(address)" }
}

extension SDPBandwidth {
    var lineValue: String { "\(type):\(value)" }
}

extension SDPAttribute {
    var lineValue: String { value.map { "\(name):\($0)" } ?? name }
}
