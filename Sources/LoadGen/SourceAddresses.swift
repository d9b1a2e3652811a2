/// The loopback addresses callers are spread over: `--sources 50` (127.0.0.1 and the next
/// 49 host addresses), `--sources 127.0.0.0/8` (the block's host addresses, at most
/// ``maximumCount``), or a list `127.0.0.2,127.0.0.3`. Only 127.0.0.0/8: the generator never
/// sends anywhere else.
public struct SourceAddresses: Sendable, Equatable {
    public let addresses: [String]
    /// How many addresses the block held, when more than were taken.
    public let blockSize: Int
    /// Every address needs two sockets (SIP and RTP), so the spread is bounded.
    public static let maximumCount = 1024

    public init(addresses: [String]) {
        self.addresses = addresses
        self.blockSize = addresses.count
    }

    init(addresses: [String], blockSize: Int) {
        self.addresses = addresses
        self.blockSize = blockSize
    }

    public static let loopback = SourceAddresses(addresses: ["127.0.0.1"])

    public static func parse(_ text: String) throws(FloodSyntaxError) -> SourceAddresses {
        let s = text.trimmingWhitespace()
        if let count = Int(s) {
            guard count >= 1, count <= maximumCount else {
                throw FloodSyntaxError(text, expected: "a count of addresses from 1 to \(maximumCount)")
            }
            return SourceAddresses(addresses: hosts(from: ipv4(127, 0, 0, 1), count: count))
        }
        if let slash = s.firstIndex(of: "/") {
            guard let base = parseIPv4(String(s[..<slash])), let bits = Int(s[s.index(after: slash)...]), (8...32).contains(bits) else {
                throw FloodSyntaxError(text, expected: "a block such as 127.0.0.0/8")
            }
            let mask: UInt32 = bits == 32 ? .max : ~(UInt32.max >> UInt32(bits))
            let network = base & mask
            guard network >> 24 == 127 else { throw FloodSyntaxError(text, expected: "a block inside 127.0.0.0/8 (loopback only)") }
            let size = bits == 32 ? 1 : Int(UInt64(1) << UInt64(32 - bits))
            let usable = size <= 2 ? size : size - 2
            let first = size <= 2 ? network : network + 1
            let taken = hosts(from: first, count: min(usable, maximumCount), limit: network &+ UInt32(size - 1))
            return SourceAddresses(addresses: taken, blockSize: usable)
        }
        var list: [String] = []
        for part in s.split(separator: ",") {
            guard let ip = parseIPv4(part.trimmingWhitespace()), ip >> 24 == 127 else {
                throw FloodSyntaxError(String(part), expected: "a loopback address (127.x.y.z), a count, or a block such as 127.0.0.0/8")
            }
            list.append(format(ip))
        }
        guard !list.isEmpty, list.count <= maximumCount else { throw FloodSyntaxError(text, expected: "1 to \(maximumCount) addresses") }
        return SourceAddresses(addresses: list)
    }

    /// Host addresses from `start`, skipping .0 and .255 in the last octet.
    static func hosts(from start: UInt32, count: Int, limit: UInt32 = ipv4(127, 255, 255, 254)) -> [String] {
        var out: [String] = []
        var ip = start
        while out.count < count, ip <= limit {
            let last = ip & 0xFF
            if last != 0 && last != 255 { out.append(format(ip)) }
            if ip == .max { break }
            ip += 1
        }
        return out
    }

    static func ipv4(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 { a << 24 | b << 16 | c << 8 | d }

    static func parseIPv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for p in parts {
            guard let octet = UInt32(p), octet <= 255, p.count <= 3 else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    static func format(_ ip: UInt32) -> String { "\(ip >> 24).\(ip >> 16 & 0xFF).\(ip >> 8 & 0xFF).\(ip & 0xFF)" }
}
