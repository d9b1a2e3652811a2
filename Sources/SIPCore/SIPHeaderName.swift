/// A header field name. Compared case-insensitively with compact forms expanded
/// (RFC 3261 §7.3.1, §7.3.3), printed in the canonical long form.
public struct SIPHeaderName: Hashable, Sendable, CustomStringConvertible {
    /// The spelling used when serializing (canonical for known headers, as received otherwise).
    public let rawValue: String
    /// Lower-cased long form: the identity used for comparison.
    public let key: String

    public init(_ name: String) {
        let lower = name.lowercased()
        if let known = SIPHeaderName.byLowercasedName[lower] {
            self = known
        } else {
            self.rawValue = name
            self.key = lower
        }
    }

    private init(canonical: String) {
        self.rawValue = canonical
        self.key = canonical.lowercased()
    }

    public var description: String { rawValue }
    public static func == (lhs: SIPHeaderName, rhs: SIPHeaderName) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }

    public static let accept = SIPHeaderName(canonical: "Accept")
    public static let acceptEncoding = SIPHeaderName(canonical: "Accept-Encoding")
    public static let acceptLanguage = SIPHeaderName(canonical: "Accept-Language")
    public static let allow = SIPHeaderName(canonical: "Allow")
    public static let allowEvents = SIPHeaderName(canonical: "Allow-Events")
    public static let authorization = SIPHeaderName(canonical: "Authorization")
    public static let callID = SIPHeaderName(canonical: "Call-ID")
    public static let contact = SIPHeaderName(canonical: "Contact")
    public static let contentDisposition = SIPHeaderName(canonical: "Content-Disposition")
    public static let contentEncoding = SIPHeaderName(canonical: "Content-Encoding")
    public static let contentLength = SIPHeaderName(canonical: "Content-Length")
    public static let contentType = SIPHeaderName(canonical: "Content-Type")
    public static let cseq = SIPHeaderName(canonical: "CSeq")
    public static let date = SIPHeaderName(canonical: "Date")
    public static let event = SIPHeaderName(canonical: "Event")
    public static let expires = SIPHeaderName(canonical: "Expires")
    public static let from = SIPHeaderName(canonical: "From")
    public static let maxForwards = SIPHeaderName(canonical: "Max-Forwards")
    public static let proxyAuthenticate = SIPHeaderName(canonical: "Proxy-Authenticate")
    public static let proxyAuthorization = SIPHeaderName(canonical: "Proxy-Authorization")
    public static let proxyRequire = SIPHeaderName(canonical: "Proxy-Require")
    public static let recordRoute = SIPHeaderName(canonical: "Record-Route")
    public static let referTo = SIPHeaderName(canonical: "Refer-To")
    public static let referredBy = SIPHeaderName(canonical: "Referred-By")
    public static let require = SIPHeaderName(canonical: "Require")
    public static let retryAfter = SIPHeaderName(canonical: "Retry-After")
    public static let route = SIPHeaderName(canonical: "Route")
    public static let server = SIPHeaderName(canonical: "Server")
    public static let sessionExpires = SIPHeaderName(canonical: "Session-Expires")
    public static let subject = SIPHeaderName(canonical: "Subject")
    public static let supported = SIPHeaderName(canonical: "Supported")
    public static let timestamp = SIPHeaderName(canonical: "Timestamp")
    public static let to = SIPHeaderName(canonical: "To")
    public static let unsupported = SIPHeaderName(canonical: "Unsupported")
    public static let userAgent = SIPHeaderName(canonical: "User-Agent")
    public static let via = SIPHeaderName(canonical: "Via")
    public static let warning = SIPHeaderName(canonical: "Warning")
    public static let wwwAuthenticate = SIPHeaderName(canonical: "WWW-Authenticate")
    public static let reason = SIPHeaderName(canonical: "Reason")
    /// RFC 3327: the proxies a REGISTER passed, to route requests to the registered UA.
    public static let path = SIPHeaderName(canonical: "Path")

    private static let all: [SIPHeaderName] = [
        accept, acceptEncoding, acceptLanguage, allow, allowEvents, authorization, callID, contact,
        contentDisposition, contentEncoding, contentLength, contentType, cseq, date, event, expires,
        from, maxForwards, proxyAuthenticate, proxyAuthorization, proxyRequire, recordRoute,
        referTo, referredBy, require, retryAfter, route, server, sessionExpires, subject,
        supported, timestamp, to, unsupported, userAgent, via, warning, wwwAuthenticate, reason, path,
    ]

    /// RFC 3261 §7.3.3 and the compact forms registered since (RFC 3515, 3892, 3265, 4028).
    private static let compactForms: [String: SIPHeaderName] = [
        "i": callID, "m": contact, "e": contentEncoding, "l": contentLength, "c": contentType,
        "f": from, "s": subject, "k": supported, "t": to, "v": via, "o": event, "r": referTo,
        "b": referredBy, "x": sessionExpires, "u": allowEvents,
    ]

    private static let byLowercasedName: [String: SIPHeaderName] = {
        var map: [String: SIPHeaderName] = [:]
        for name in all { map[name.key] = name }
        for (short, name) in compactForms { map[short] = name }
        return map
    }()

    /// Headers whose values are comma-separated lists (RFC 3261 §7.3.1), so that
    /// `Via: a, b` and two `Via` lines mean the same. Authorization-style headers and
    /// Date contain commas inside one value and are not split.
    public var isList: Bool { SIPHeaderName.listHeaders.contains(key) }
    private static let listHeaders: Set<String> = [
        "via", "route", "record-route", "contact", "allow", "supported", "require",
        "proxy-require", "unsupported", "accept", "accept-encoding", "accept-language",
        "allow-events", "content-encoding", "in-reply-to", "warning", "path",
    ]
}
