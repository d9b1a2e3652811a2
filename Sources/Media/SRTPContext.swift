// Media: SRTP (RFC 3711) through Debian's libsrtp2, one context per direction of a call's
// stream. Protecting and unprotecting happen in place in the packet buffer, on the call's loop.
import CSRTP
import NIOCore
import SDP

/// One direction of an SRTP stream: `outbound` protects what we send with our key, `inbound`
/// authenticates and decrypts what arrives with the peer's key (replays are refused).
public final class SRTPContext {
    public enum Direction: Sendable { case outbound, inbound }

    public enum SRTPError: Error, CustomStringConvertible, Equatable {
        case badKeyLength(Int)
        case library(status: UInt32)

        public var description: String {
            switch self {
            case .badKeyLength(let n): "SRTP key material must be \(SRTPCryptoSuite.keyMaterialLength) bytes, not \(n)"
            case .library(let status): "libsrtp2 error \(status)"
            }
        }
    }

    /// libsrtp2 adds at most this many bytes (the tag; no MKI is used).
    public static let maximumTrailer = Int(SRTP_MAX_TRAILER_LEN)

    private var session: srtp_t?
    public let direction: Direction

    private static let initialised: UInt32 = {
        srtp_init().rawValue
    }()

    public init(suite: SRTPCryptoSuite, keyMaterial: [UInt8], direction: Direction) throws(SRTPError) {
        guard keyMaterial.count == SRTPCryptoSuite.keyMaterialLength else { throw .badKeyLength(keyMaterial.count) }
        let ready = Self.initialised
        guard ready == srtp_err_status_ok.rawValue else { throw .library(status: ready) }
        self.direction = direction
        var policy = srtp_policy_t()
        switch suite {
        case .aesCM128HMACSHA1_80:
            srtp_crypto_policy_set_rtp_default(&policy.rtp)
        case .aesCM128HMACSHA1_32:
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp)
        }
        srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        policy.ssrc.type = direction == .outbound ? ssrc_any_outbound : ssrc_any_inbound
        policy.window_size = 1024 // reordering over the internet exceeds the default of 128
        policy.allow_repeat_tx = 0
        var key = keyMaterial
        var created: srtp_t?
        let status = key.withUnsafeMutableBufferPointer { buffer -> srtp_err_status_t in
            policy.key = buffer.baseAddress
            return srtp_create(&created, &policy) // copies the key; ours is wiped below
        }
        for i in key.indices { key[i] = 0 }
        guard status == srtp_err_status_ok, let created else { throw .library(status: status.rawValue) }
        session = created
    }

    deinit {
        if let session { srtp_dealloc(session) }
    }

    /// Encrypts and authenticates an RTP packet in place (the buffer grows by the tag).
    /// False if libsrtp refused it (a malformed header): the packet must not be sent.
    public func protect(_ buffer: inout ByteBuffer) -> Bool {
        guard let session else { return false }
        let length = buffer.readableBytes
        buffer.reserveCapacity(minimumWritableBytes: Self.maximumTrailer)
        var newLength = Int32(length)
        let reader = buffer.readerIndex
        let result: srtp_err_status_t = buffer.withVeryUnsafeMutableBytes { whole in
            srtp_protect(session, whole.baseAddress! + reader, &newLength)
        }
        guard result == srtp_err_status_ok else { return false }
        buffer.moveWriterIndex(to: buffer.readerIndex + Int(newLength))
        return true
    }

    /// Authenticates and decrypts an SRTP packet in place (the tag is dropped). False for a
    /// forged, corrupt or replayed packet: it must be discarded.
    public func unprotect(_ buffer: inout ByteBuffer) -> Bool {
        guard let session else { return false }
        var newLength = Int32(buffer.readableBytes)
        let result: srtp_err_status_t = buffer.withUnsafeMutableReadableBytes { bytes in
            srtp_unprotect(session, bytes.baseAddress!, &newLength)
        }
        guard result == srtp_err_status_ok else { return false }
        buffer.moveWriterIndex(to: buffer.readerIndex + Int(newLength))
        return true
    }
}

/// The two directions of a call's SRTP stream.
public struct SRTPStream {
    public let outbound: SRTPContext
    public let inbound: SRTPContext

    public init(_ keys: SRTPKeys) throws(SRTPContext.SRTPError) {
        outbound = try SRTPContext(suite: keys.suite, keyMaterial: keys.local, direction: .outbound)
        inbound = try SRTPContext(suite: keys.suite, keyMaterial: keys.remote, direction: .inbound)
    }
}
