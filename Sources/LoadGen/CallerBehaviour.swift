import ConfigFiles
import RTP

/// How keys reach the server.
public enum DTMFMode: String, Sendable, Equatable, CaseIterable, Codable {
    /// RFC 4733 telephone-event packets on the RTP stream.
    case rfc4733
    /// SIP INFO with `application/dtmf-relay` (`Signal=3`).
    case info
    /// Dual tones in the G.711 audio (ITU-T Q.23), for servers that listen to the audio.
    case inband
}

/// What the caller sends on its RTP stream between keys.
public enum AudioMode: String, Sendable, Equatable, CaseIterable, Codable {
    /// G.711 silence every 20 ms, as a phone with a muted microphone.
    case silence
    /// A quiet 400 Hz tone every 20 ms.
    case tone
    /// Nothing (RFC 4733 and in-band keys still go out as RTP).
    case none
}

/// Who ends an answered call.
public enum HangupMode: String, Sendable, Equatable, CaseIterable, Codable {
    /// The caller sends BYE once its hold time is over.
    case caller
    /// The caller waits for the server's BYE (a missing one is a failure after `byeTimeout`).
    case server
}

/// How long a caller stays on the line: fixed (`3s`) or uniform between two bounds
/// (`uniform:2s-5s`).
public enum HoldTime: Sendable, Equatable, CustomStringConvertible {
    case fixed(Duration)
    case uniform(Duration, Duration)

    public static func parse(_ text: String) throws(FloodSyntaxError) -> HoldTime {
        let s = text.trimmingWhitespace()
        if s.lowercased().hasPrefix("uniform:") {
            let range = s.dropFirst("uniform:".count)
            let bounds = range.split(separator: "-", maxSplits: 1)
            guard bounds.count == 2, let low = DurationSyntax.parse(String(bounds[0]), .commandLine), let high = DurationSyntax.parse(String(bounds[1]), .commandLine),
                  low <= high else {
                throw FloodSyntaxError(text, expected: "uniform:LOW-HIGH, e.g. uniform:2s-5s")
            }
            return .uniform(low, high)
        }
        guard let d = DurationSyntax.parse(s, .commandLine) else { throw FloodSyntaxError(text, expected: "a duration (3s) or uniform:2s-5s") }
        return .fixed(d)
    }

    /// One draw.
    public func sample<R: RandomNumberGenerator>(using rng: inout R) -> Duration {
        switch self {
        case .fixed(let d): return d
        case .uniform(let low, let high):
            let a = low.nanosecondsUInt64, b = high.nanosecondsUInt64
            return .nanoseconds(Int64(a == b ? a : UInt64.random(in: a...b, using: &rng)))
        }
    }

    /// The longest it can be.
    public var maximum: Duration {
        switch self {
        case .fixed(let d): d
        case .uniform(_, let high): high
        }
    }

    public var description: String {
        switch self {
        case .fixed(let d): DurationSyntax.format(d)
        case .uniform(let a, let b): "uniform:\(DurationSyntax.format(a))-\(DurationSyntax.format(b))"
        }
    }
}

/// What one kind of caller does once answered. A scenario mixes several.
public struct CallerBehaviour: Sendable, Equatable {
    /// The scenario entry's name (`default` without a scenario).
    public var name: String
    /// Keys pressed in order.
    public var keys: [DTMFKey]
    /// Wait before the first key (from the answer) and between keys.
    public var keyDelay: Duration
    public var dtmf: DTMFMode
    public var audio: AudioMode
    public var hangup: HangupMode
    /// With `hangup: caller`, the time from the answer to our BYE.
    public var hold: HoldTime
    /// With `hangup: server`, how long after the answer the server's BYE may take before it
    /// counts as missing (we then hang up ourselves).
    public var byeTimeout: Duration
    /// Prompts the caller must hear, in order (by name); nil checks nothing.
    public var expectedPrompts: [String]?

    public init(name: String = "default", keys: [DTMFKey] = [], keyDelay: Duration = .milliseconds(1500),
                dtmf: DTMFMode = .rfc4733, audio: AudioMode = .silence, hangup: HangupMode = .server,
                hold: HoldTime = .fixed(.seconds(3)), byeTimeout: Duration = .seconds(60), expectedPrompts: [String]? = nil) {
        self.name = name
        self.keys = keys
        self.keyDelay = keyDelay
        self.dtmf = dtmf
        self.audio = audio
        self.hangup = hangup
        self.hold = hold
        self.byeTimeout = byeTimeout
        self.expectedPrompts = expectedPrompts
    }

    /// `--keys 3`, `--keys 12#`: each character one key.
    public static func parse(keys text: String) throws(FloodSyntaxError) -> [DTMFKey] {
        var keys: [DTMFKey] = []
        for c in text where c != " " && c != "," {
            guard let key = DTMFKey(character: c) else { throw FloodSyntaxError(text, expected: "keys from 0-9 * # A-D") }
            keys.append(key)
        }
        return keys
    }

    /// The longest an answered call of this kind should last, for the drain bound.
    public var longestCall: Duration {
        let keys = keyDelay * self.keys.count
        return hangup == .caller ? max(hold.maximum, keys) : max(byeTimeout, keys)
    }
}
