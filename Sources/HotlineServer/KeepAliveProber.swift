// HotlineServer: the composition root.
// This file: the registrar's keep-alive probes — an OPTIONS to each agent phone's binding, so
// a phone that is gone (NAT binding lost, switched off) stops being offered calls.
import NIOCore
import SIPCore
import SIPEndpoint
import SIPRegistrar

/// Sends the registrar's OPTIONS probes from engine 0's endpoint, and reports each probe's
/// outcome exactly once: answered (any final response) or failed (no answer within `timeout`,
/// the transaction's timeout, or an unusable address). Runs on the control loop.
final class KeepAliveProber {
    enum Outcome {
        case answered(BindingID, status: SIPStatus)
        case failed(BindingID)
    }

    unowned let engine: CallEngine
    /// How long a probe may go unanswered before it counts as failed.
    let timeout: Duration
    private let report: (Outcome) -> Void

    init(engine: CallEngine, timeout: Duration, report: @escaping (Outcome) -> Void) {
        self.engine = engine
        self.timeout = timeout
        self.report = report
    }

    /// An OPTIONS to the binding's source address in a client transaction. The Call-ID hashes
    /// to this loop, so the response comes back here.
    func send(_ probe: OptionsProbe) {
        guard let destination = try? SocketAddress(ipAddress: probe.destination.host, port: probe.destination.port) else {
            report(.failed(probe.binding))
            return
        }
        let endpoint = engine.endpoint!
        var headers = SIPHeaders()
        headers.append(.via, endpoint.makeVia().description)
        headers.append(.maxForwards, "70")
        for hop in probe.route { headers.append(.route, "<\(hop)>") }
        headers.append(.from, "<sip:hotline@\(engine.hostForURI):\(endpoint.configuration.port)>;tag=\(endpoint.makeTag())")
        headers.append(.to, "<\(probe.requestURI)>")
        headers.append(.callID, engine.makeCallID())
        headers.append(.cseq, SIPCSeq(1, .options).description)
        headers.append(.accept, "application/sdp")
        let request = SIPRequest(method: .options, uri: probe.requestURI, headers: headers)
        let binding = probe.binding
        // A probe fails after `timeout` (several retransmissions at T1 doubling), not at Timer
        // F's 32 s: a home agent whose NAT binding or phone is gone should stop being offered
        // calls within about one interval plus this.
        let outcome = ProbeOutcome()
        let prober = NIOLoopBound(self, eventLoop: engine.eventLoop)
        let watchdog = engine.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            guard !outcome.settled else { return }
            outcome.settled = true
            prober.value.report(.failed(binding))
        }
        endpoint.send(request: request, to: destination) { [weak self] event in
            guard let self, !outcome.settled else { return }
            switch event {
            case .response(let response) where response.status.isProvisional:
                return
            case .response(let response):
                outcome.settled = true
                watchdog.cancel()
                self.report(.answered(binding, status: response.status))
            case .timeout:
                outcome.settled = true
                watchdog.cancel()
                self.report(.failed(binding))
            }
        }
    }
}

/// Whether a keep-alive probe has been decided (answer, transaction timeout or watchdog),
/// so it is counted once. Touched only on the control loop.
private final class ProbeOutcome: @unchecked Sendable {
    var settled = false
}
