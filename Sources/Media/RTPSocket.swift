#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The sending side of a call's RTP socket. NIO owns the descriptor (it reads, and closes it
/// with the channel); the pacing tick sends on it directly with one `sendto`, skipping the
/// channel pipeline: the pipeline write, the pending-writes queue and the address conversion
/// cost as much CPU as the system call itself, 50 times a second for every call.
package struct RTPSocket {
    package let descriptor: CInt

    package enum BindError: Error, CustomStringConvertible {
        case socket(CInt)
        case bind(port: Int, errno: CInt)
        case address(String)
        package var description: String {
            switch self {
            case .socket(let e): "socket(): \(String(cString: strerror(e)))"
            case .bind(let p, let e): "bind to port \(p): \(String(cString: strerror(e)))"
            case .address(let a): "not an IP address: \(a)"
            }
        }
        var isAddressInUse: Bool { if case .bind(_, let e) = self { return e == EADDRINUSE } else { return false } }
    }

    /// A non-blocking UDP socket bound to `host:port`.
    package static func bind(host: String, port: Int) throws(BindError) -> RTPSocket {
        let address: SocketAddress
        do { address = try SocketAddress(ipAddress: host, port: port) } catch { throw .address(host) }
        let family = address.protocol.rawValue
        #if canImport(Glibc)
        let type = CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_DGRAM
        #endif
        let fd = socket(family, type, 0)
        guard fd >= 0 else { throw .socket(errno) }
        let result = address.withSockAddr { pointer, length in Glibc.bind(fd, pointer, socklen_t(length)) }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw .bind(port: port, errno: error)
        }
        return RTPSocket(descriptor: fd)
    }

    /// Sends one datagram; a full socket buffer drops it (RTP tolerates loss, a call must
    /// not wait). Returns whether it was sent.
    @inline(__always)
    func send(_ buffer: ByteBuffer, to destination: PreparedAddress) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            withUnsafePointer(to: destination.storage) { storage in
                storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    sendto(descriptor, bytes.baseAddress, bytes.count, CInt(MSG_DONTWAIT), address, destination.length) >= 0
                }
            }
        }
    }
}

/// A destination converted to `sockaddr` once, not per packet.
struct PreparedAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    init(_ address: SocketAddress) {
        var storage = sockaddr_storage()
        let length = address.withSockAddr { pointer, length in
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: length))
            }
            return length
        }
        self.storage = storage
        self.length = socklen_t(length)
    }
}
