import CALSA

/// Records 16-bit PCM from an ALSA device (blocking reads): the console phone's microphone.
/// One per device; not `Sendable`, use from one thread.
public final class ALSACapture {
    /// The PCM device name: `default`, `null`, `plughw:0`...
    public let device: String
    public let sampleRate: Int
    public let channels: Int
    var pcm: OpaquePointer?

    /// Opens `device` for capture of signed 16-bit little-endian interleaved PCM; ALSA's plug
    /// layer converts if the hardware cannot do `sampleRate`.
    public init(device: String = "default", sampleRate: Int = 8000, channels: Int = 1, latencyMicroseconds: Int = 100_000) throws(ALSAError) {
        self.device = device
        self.sampleRate = sampleRate
        self.channels = channels
        var handle: OpaquePointer?
        let opened = snd_pcm_open(&handle, device, SND_PCM_STREAM_CAPTURE, 0)
        guard opened >= 0, let handle else {
            throw ALSAError(device: device, operation: "open for capture", code: opened)
        }
        let configured = snd_pcm_set_params(handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
                                            UInt32(channels), UInt32(sampleRate), 1, UInt32(latencyMicroseconds))
        guard configured >= 0 else {
            snd_pcm_close(handle)
            throw ALSAError(device: device, operation: "set capture parameters (S16_LE, \(sampleRate) Hz, \(channels) ch)", code: configured)
        }
        pcm = handle
    }

    deinit {
        if let pcm { snd_pcm_close(pcm) }
    }

    public var isClosed: Bool { pcm == nil }

    /// Reads exactly `frames` frames (frames × channels samples), blocking until they are in.
    /// An overrun (`EPIPE`) is recovered and the read goes on.
    public func read(frames: Int) throws(ALSAError) -> [Int16] {
        guard let pcm else { throw ALSAError(device: device, operation: "read", message: "device is closed") }
        var samples = [Int16](repeating: 0, count: frames * channels)
        var done = 0
        while done < frames {
            let got = samples.withUnsafeMutableBufferPointer { buffer in
                snd_pcm_readi(pcm, buffer.baseAddress! + done * channels, snd_pcm_uframes_t(frames - done))
            }
            if got < 0 {
                let recovered = snd_pcm_recover(pcm, Int32(got), 1)
                guard recovered >= 0 else { throw ALSAError(device: device, operation: "read", code: Int32(got)) }
                continue
            }
            done += Int(got)
        }
        return samples
    }

    /// Closes the device; closing twice is harmless.
    public func close() {
        if let pcm {
            snd_pcm_close(pcm)
            self.pcm = nil
        }
    }
}
