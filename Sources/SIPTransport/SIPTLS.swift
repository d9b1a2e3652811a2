// SIPTransport: the TLS server context of the SIP listener (RFC 3261 §26.3.1, RFC 5630):
// our certificate chain and key from PEM files, and, when a client CA is given, mutual TLS:
// a phone must present a certificate that CA signed or its handshake fails.
import NIOSSL

public enum SIPTLS {
    public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
        case unreadable(what: String, path: String, reason: String)

        public var description: String {
            switch self {
            case .unreadable(let what, let path, let reason): "cannot read the TLS \(what) \(path): \(reason)"
            }
        }
    }

    /// A server context from PEM files: `certificate` may hold the whole chain, leaf first.
    public static func serverContext(certificate: String, key: String, clientCA: String? = nil) throws(ConfigurationError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificate) } catch {
            throw .unreadable(what: "certificate", path: certificate, reason: "\(error)")
        }
        guard !chain.isEmpty else { throw .unreadable(what: "certificate", path: certificate, reason: "no certificate in the file") }
        let privateKey: NIOSSLPrivateKey
        do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
            throw .unreadable(what: "key", path: key, reason: "\(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCA {
            let roots: [NIOSSLCertificate]
            do { roots = try NIOSSLCertificate.fromPEMFile(clientCA) } catch {
                throw .unreadable(what: "client CA", path: clientCA, reason: "\(error)")
            }
            // A server verifies a client's chain, never a host name: phones have none to check.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(roots)
        }
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw .unreadable(what: "certificate and key", path: certificate, reason: "\(error)")
        }
    }
}
