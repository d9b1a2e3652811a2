// AudioDevice: ALSA playback for the console phone (`hotline console`), so an
// operator can hear prompts and calls on the machine's sound card.
import CALSA

/// An ALSA failure: the device, what we tried, and `snd_strerror`'s words.
public struct ALSAError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The PCM device name as given (`default`, `plughw:0`...).
    public var device: String
    /// What we were doing (`open`, `set parameters`, `write`, `drain`).
    public var operation: String
    /// The negative errno ALSA returned (0 when the error is ours).
    public var code: Int32
    /// `snd_strerror(code)`, or our own text.
    public var message: String

    /// Creates an error from an ALSA return code.
    public init(device: String, operation: String, code: Int32) {
        self.device = device
        self.operation = operation
        self.code = code
        self.message = String(cString: snd_strerror(code))
    }

    /// Creates an error with our own message.
    init(device: String, operation: String, message: String) {
        self.device = device
        self.operation = operation
        self.code = 0
        self.message = message
    }

    /// Whether the error means there is no such device or no sound card at
    /// all (a server, a container): `ENOENT` or `ENODEV`.
    public var isNoSuchDevice: Bool {
        code == -ENOENT || code == -ENODEV
    }

    /// A sentence an operator can act on.
    public var description: String {
        var text = "ALSA playback device '\(device)': \(operation) failed: \(message)"
        if isNoSuchDevice {
            text += " (no sound card or no such device; `aplay -L` lists devices, 'null' discards audio)"
        }
        return text
    }
}
