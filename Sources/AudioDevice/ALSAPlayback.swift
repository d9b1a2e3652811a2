import CALSA

/// Plays 16-bit PCM on an ALSA device (blocking writes): the console phone's
/// loudspeaker. One per device; not `Sendable`, use from one thread.
public final class ALSAPlayback {
    /// The PCM device name: `default`, `null`, `plughw:0`, `hw:1,0`...
    public let device: String
    /// Samples per second per channel.
    public let sampleRate: Int
    /// Interleaved channels.
    public let channels: Int
    var pcm: OpaquePointer?
    /// Frames ALSA has accepted since the device opened: what a caller (or a test on a
    /// device it cannot hear) can check was actually played.
    public private(set) var framesWritten = 0

    /// Opens `device` for playback of signed 16-bit little-endian interleaved
    /// PCM. ALSA's plug layer resamples if the hardware cannot do `sampleRate`.
    ///
    /// - Parameter latencyMicroseconds: the buffer ALSA keeps; 100 ms rides
    ///   out scheduling hiccups without sounding late.
    public init(device: String = "default", sampleRate: Int = 8000, channels: Int = 1, latencyMicroseconds: Int = 100_000) throws(ALSAError) {
        self.device = device
        self.sampleRate = sampleRate
        self.channels = channels
        var handle: OpaquePointer?
        let opened = snd_pcm_open(&handle, device, SND_PCM_STREAM_PLAYBACK, 0)
        guard opened >= 0, let handle else {
            throw ALSAError(device: device, operation: "open", code: opened)
        }
        let configured = snd_pcm_set_params(handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
                                            UInt32(channels), UInt32(sampleRate), 1, UInt32(latencyMicroseconds))
        guard configured >= 0 else {
            snd_pcm_close(handle)
            throw ALSAError(device: device, operation: "set parameters (S16_LE, \(sampleRate) Hz, \(channels) ch)", code: configured)
        }
        pcm = handle
    }

    deinit {
        if let pcm { snd_pcm_close(pcm) }
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { pcm == nil }

    /// Plays interleaved samples, blocking until ALSA has taken them all.
    /// An underrun (`EPIPE`) or suspend is recovered and the write goes on.
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(ALSAError) {
        guard let pcm else { throw ALSAError(device: device, operation: "write", message: "device is closed") }
        guard samples.count % channels == 0 else {
            throw ALSAError(device: device, operation: "write", message: "\(samples.count) samples is not a whole number of \(channels)-channel frames")
        }
        guard var next = samples.baseAddress else { return }
        var remaining = samples.count / channels
        while remaining > 0 {
            let written = snd_pcm_writei(pcm, next, snd_pcm_uframes_t(remaining))
            if written < 0 {
                let recovered = snd_pcm_recover(pcm, Int32(written), 1)
                guard recovered >= 0 else { throw ALSAError(device: device, operation: "write", code: Int32(written)) }
                continue
            }
            remaining -= Int(written)
            framesWritten += Int(written)
            next += Int(written) * channels
        }
    }

    /// Plays interleaved samples (see ``write(_:)-(UnsafeBufferPointer<Int16>)``).
    public func write(_ samples: [Int16]) throws(ALSAError) {
        let result: Result<Void, ALSAError> = samples.withUnsafeBufferPointer { buffer in
            Result { () throws(ALSAError) in try write(buffer) }
        }
        try result.get()
    }

    /// Blocks until everything written has been played.
    public func drain() throws(ALSAError) {
        guard let pcm else { throw ALSAError(device: device, operation: "drain", message: "device is closed") }
        let result = snd_pcm_drain(pcm)
        guard result >= 0 else { throw ALSAError(device: device, operation: "drain", code: result) }
    }

    /// Closes the device, dropping anything not yet played (call ``drain()``
    /// first to hear it). Closing twice is harmless.
    public func close() {
        if let pcm {
            snd_pcm_close(pcm)
            self.pcm = nil
        }
    }
}
