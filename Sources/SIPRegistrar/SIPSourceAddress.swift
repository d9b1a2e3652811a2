// SIPRegistrar: the REGISTER side of Hotline's agent seats as a sans-IO state machine —
// digest authentication with lockout, bindings with expiry, NAT-aware contacts (RFC 3581) and
// OPTIONS keep-alives. It takes requests and time in and gives responses and events out.

import SIPAuth
import SIPCore

/// Where a request came from: the address to send responses and later requests to, which
/// for a phone behind NAT differs from what its Contact says (RFC 3581 §4, §6).
public struct SIPSourceAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// `UDP`, `TCP`, `TLS`, `WS`.
    public var transport: String

    public init(host: String, port: Int, transport: String = "UDP") {
        self.host = host
        self.port = port
        self.transport = transport.uppercased()
    }

    /// `udp:192.0.2.7:5060`.
    public var description: String {
        let h = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(transport.lowercased()):\(h):\(port)"
    }
}

/// The `Date` header's form (RFC 3261 §20.17: RFC 1123 date, always GMT).
public enum SIPDate {
    /// `Sat, 13 Nov 2010 23:29:00 GMT`.
    public static func format(_ time: UnixTime) -> String {
        let seconds = time.seconds
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil from days (H. Hinnant's algorithm), proleptic Gregorian.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        let weekday = Int(((days % 7) + 7 + 4) % 7) // 1970-01-01 was a Thursday
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(weekdays[weekday]), \(two(day)) \(months[Int(month) - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60)) GMT"
    }
}
