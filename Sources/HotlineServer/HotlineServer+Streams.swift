// HotlineServer: SIP over TCP and TLS. One stream transport serves the whole server: its
// listeners accept on the call loops, and each message it cuts from a connection goes to the
// engine its Call-ID belongs to, as a datagram does; every engine sends on its connections.
import Logging
import NIOCore
import NIOSSL
import SIPCore
import SIPEndpoint
import SIPTransport

extension HotlineServer {
    /// The TLS listener's context, read before any socket is bound so a bad certificate
    /// stops start-up with the file named.
    static func tlsContext(_ configuration: ServerConfiguration) throws -> NIOSSLContext? {
        guard configuration.sipTLS != nil, let files = configuration.tls else { return nil }
        do {
            return try SIPTLS.serverContext(certificate: files.certificate, key: files.key, clientCA: files.clientCA)
        } catch {
            throw StartError.bind("SIP/TLS", error)
        }
    }

    struct StreamListeners: Sendable {
        let transport: SIPStreamTransport
        let tcp: SocketAddress?
        let tls: SocketAddress?
    }

    /// Binds the TCP and TLS listeners configured, and hands them to every engine.
    static func startStreams(_ configuration: ServerConfiguration, tls: NIOSSLContext?, group: EventLoopGroup,
                             engines: [CallEnginePeer]) async throws -> StreamListeners? {
        guard configuration.sipTCP != nil || configuration.sipTLS != nil else { return nil }
        let limits = SIPStreamFramer.Limits(maxMessageMilliseconds: Int64(configuration.streamMessageTimeout.components.seconds * 1000))
        let transport = SIPStreamTransport(
            group: group,
            configuration: .init(limits: limits, idleTimeout: .seconds(configuration.streamIdleTimeout.components.seconds)),
            deliver: { message, source, kind in CallEngine.deliver(message, from: source, over: kind, engines: engines) },
            closed: { address, kind in
                // The registrar lives on the control loop (engine 0).
                let control = engines[0]
                control.eventLoop.execute {
                    let engine = control.engine.value
                    engine.contactCentre?.registrar.flowClosed(address, transport: kind.viaName)
                    engine.transport?.flush()
                }
            })
        var tcp: SocketAddress?
        var secure: SocketAddress?
        var binding = ""
        do {
            if let address = configuration.sipTCP {
                binding = "SIP/TCP \(address.host):\(address.port)"
                tcp = try await transport.listen(host: address.host, port: address.port, kind: .tcp)
            }
            if let address = configuration.sipTLS, let tls {
                binding = "SIP/TLS \(address.host):\(address.port)"
                secure = try await transport.listen(host: address.host, port: address.port, kind: .tls, tls: tls)
            }
        } catch {
            await transport.close()
            throw StartError.bind(binding, error)
        }
        let (tcpPort, tlsPort) = (tcp?.port, secure?.port)
        for peer in engines {
            try await peer.eventLoop.submit { peer.engine.value.attach(streams: transport, tcpPort: tcpPort, tlsPort: tlsPort) }.get()
        }
        return StreamListeners(transport: transport, tcp: tcp, tls: secure)
    }
}

extension CallEngine {
    /// Sends on the stream transport from now on, and advertises its ports.
    func attach(streams: SIPStreamTransport, tcpPort: Int?, tlsPort: Int?) {
        self.streams = streams
        endpoint.connectionKind = { streams.kind(of: $0) }
        endpoint.configuration.tcpPort = tcpPort
        endpoint.configuration.tlsPort = tlsPort
    }

    /// A message from a connection, on that connection's loop: to the engine that owns it.
    static func deliver(_ message: ByteBuffer, from source: SocketAddress, over kind: SIPTransportKind, engines: [CallEnginePeer]) {
        // Without a contact centre a REGISTER only gets 405, on any loop: sending it to the
        // control loop as over UDP costs nothing.
        let owner = engines.count > 1 ? Self.owner(of: message, among: engines.count, registrarOnControlLoop: true) : 0
        let peer = engines[owner]
        if peer.eventLoop.inEventLoop {
            peer.engine.value.receive(message, from: source, over: kind)
        } else {
            peer.eventLoop.execute { peer.engine.value.receive(message, from: source, over: kind) }
        }
    }

    func receive(_ message: ByteBuffer, from source: SocketAddress, over kind: SIPTransportKind) {
        currentReadAt = CallEngine.monotonicNow()
        endpoint.receive(message, from: source, over: kind)
        transport?.flush() // what it made for UDP peers (an agent's INVITE, say)
    }

    /// The Contact of our side toward `peer`: on the transport we reach it by.
    func contactHeader(user: String, toward peer: SocketAddress) -> String {
        "<" + endpoint.configuration.listening.contactURI(user: user.isEmpty ? "hotline" : user, host: hostForURI,
                                                           over: endpoint.transport(to: peer)) + ">"
    }
}

extension SIPStreamTransport.Statistics {
    func publish(into p: inout MetricsPublisher) {
        p.add("hotline_sip_connections", .gauge, help: "Open SIP connections (TCP and TLS).", value: UInt64(open))
        p.add("hotline_sip_connections_total", .counter, help: "SIP connections by how they began.", labels: [("origin", "accepted")], value: accepted)
        p.add("hotline_sip_connections_total", .counter, help: "SIP connections by how they began.", labels: [("origin", "opened")], value: opened)
        for (reason, n) in [("over_limit", refusedOverLimit), ("framing", framingErrors), ("slow", slowPeers), ("idle", idleClosed),
                            ("tls", tlsFailures), ("connect_failed", connectFailures)] {
            p.add("hotline_sip_connections_closed_total", .counter, help: "SIP connections we closed or failed to open, by reason.",
                  labels: [("reason", reason)], value: n)
        }
        p.add("hotline_sip_keepalive_pings_total", .counter, help: "RFC 5626 CRLF pings answered on connections.", value: keepAlivePings)
    }
}
