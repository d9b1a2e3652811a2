#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import COpus

/// Access to `opus_encoder_ctl`, which Swift cannot call directly because it is
/// variadic (`int opus_encoder_ctl(OpusEncoder *st, int request, ...)`).
///
/// We look the symbol up and call it through a fixed-argument function
/// pointer. On the System V x86-64 and AAPCS64 (Linux arm64) ABIs an integer
/// or pointer variadic argument travels in the same register as a fixed one,
/// so this is sound there. On Apple arm64 variadic arguments go on the stack,
/// so the call is refused rather than made wrong. The clean fix is a
/// `static inline` wrapper in `Sources/COpus/shim.h`; see the media branch report.
enum OpusControl {
    typealias IntRequest = @convention(c) (OpaquePointer?, Int32, Int32) -> Int32
    typealias PointerRequest = @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<Int32>?) -> Int32

    #if (os(Linux) && (arch(x86_64) || arch(arm64))) || (os(macOS) && arch(x86_64))
    static let isSupported = true
    #else
    static let isSupported = false
    #endif

    /// The address of `opus_encoder_ctl` in the process (libopus is linked in).
    /// Held as an integer so the cached value is trivially Sendable.
    static let encoderControlAddress: UInt = {
        guard isSupported, let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "opus_encoder_ctl") else { return 0 }
        return UInt(bitPattern: symbol)
    }()

    static func unavailable(_ operation: String) -> OpusError {
        OpusError(operation: operation, message: "opus_encoder_ctl is not callable from Swift on this platform")
    }

    /// `opus_encoder_ctl(encoder, request, value)`.
    static func set(_ encoder: OpaquePointer, _ request: Int32, _ value: Int32, operation: String) throws(OpusError) {
        guard let address = UnsafeRawPointer(bitPattern: encoderControlAddress) else { throw unavailable(operation) }
        let function = unsafeBitCast(address, to: IntRequest.self)
        let result = function(encoder, request, value)
        guard result == OPUS_OK else { throw OpusError(operation: operation, code: result) }
    }

    /// `opus_encoder_ctl(encoder, request, &value)`.
    static func get(_ encoder: OpaquePointer, _ request: Int32, operation: String) throws(OpusError) -> Int32 {
        guard let address = UnsafeRawPointer(bitPattern: encoderControlAddress) else { throw unavailable(operation) }
        let function = unsafeBitCast(address, to: PointerRequest.self)
        var value: Int32 = 0
        let result = function(encoder, request, &value)
        guard result == OPUS_OK else { throw OpusError(operation: operation, code: result) }
        return value
    }
}
