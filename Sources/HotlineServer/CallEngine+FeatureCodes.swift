// HotlineServer: the composition root.
// This file: agents' feature codes. An INVITE from an agent's phone to *21 (log in), *22 (log
// out), *23[reason] (pause) or *24 (available) is authenticated with digest as a UAS (401), is
// carried out by the ACD on the control loop, then answered with a short confirmation.
import ACD
import Dialplan
import Foundation
import NIOCore
import SIPCore
import SDP
import SIPRegistrar
import SIPTransaction

extension CallEngine {
    /// The confirmations, as a dialplan the call path runs like any other: one node per
    /// outcome (named after its prompt), each playing its prompt and hanging up.
    static func makeFeatureDialplan(language: Language) -> Dialplan? {
        let outcomes = ["agent_logged_in", "agent_logged_out", "agent_paused", "agent_available", "agent_refused"]
        var yaml = """
            dialplan: agent_features
            languages: [\(language.rawValue)]
            entries:
              - prefix: "*2"
                start: agent_logged_in
            nodes:
              done: {type: hangup, disposition: completed_in_ivr}

            """
        for outcome in outcomes {
            yaml += "  \(outcome): {type: play, prompts: [\(outcome)], next: done}\n"
        }
        return Dialplan.check(yaml: yaml, file: "<agent feature codes>").dialplan
    }

    /// Hops to the control loop for the verdict, then answers on this loop.
    func agentFeatureCode(_ code: AgentFeatureCode, _ request: SIPRequest, _ key: SIPTransactionKey, _ source: SocketAddress,
                          link: ACDLink) {
        let from = SIPSourceAddress(host: source.ipAddress ?? "?", port: source.port ?? 0,
                                    transport: endpoint.transport(to: source).viaName)
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let offersSRTP = offersUsableSRTP(request, from: source)
        link.ask { $0.featureCode(code, request: request, source: from, offersSRTP: offersSRTP) }
            .hop(to: eventLoop)
            .whenSuccess { verdict in
                let engine = bound.value
                engine.featureCodeDecided(verdict, request, key, source)
                engine.transport?.flush()
            }
    }

    private func featureCodeDecided(_ verdict: FeatureCodeVerdict, _ request: SIPRequest, _ key: SIPTransactionKey,
                                    _ source: SocketAddress) {
        guard endpoint.isAwaitingFinalResponse(key) else { return } // cancelled meanwhile
        switch verdict {
        case .challenge(let challenges):
            // RFC 3261 §22.2: a UAS challenges with 401 and WWW-Authenticate, one per algorithm.
            var extra = SIPHeaders()
            for challenge in challenges { extra.append(.wwwAuthenticate, challenge) }
            respond(request, on: key, .unauthorized, extra: extra)
        case .forbidden(let why):
            logger.info("feature code refused", metadata: ["sip.call_id": "\(request.callID ?? "")", "reason": "\(why)"])
            respond(request, on: key, .forbidden)
        case .encryptionRequired:
            respond(request, on: key, .notAcceptableHere,
                    extra: [(.warning, "305 hotline \"SRTP required: call over SIP/TLS with an RTP/SAVP offer (RFC 4568)\"")])
        case .outcome(_, let outcome, let encryption):
            guard let plan = featureDialplan, var entry = plan.entries.first else {
                return respond(request, on: key, .serverInternalError)
            }
            entry.start = NodeID(outcome.prompt)
            startCall(request, key, source, dialplan: plan, entry: entry, agentFeature: true, encryption: encryption)
        }
    }
}

extension CallEngine {
    /// Whether `request` came over TLS with an offer we would take as SRTP.
    func offersUsableSRTP(_ request: SIPRequest, from source: SocketAddress) -> Bool {
        guard endpoint.transport(to: source) == .tls, let offer = try? SessionDescription.parse(request.bodyText) else { return false }
        let probeKey = [UInt8](repeating: 0, count: SRTPCryptoSuite.keyMaterialLength) // never used for media
        let media = try? negotiator.answer(to: offer, localAddress: configuration.contactHost, localPort: 0, sessionID: 0,
                                           sessionVersion: 1, encryption: .required, localKeyMaterial: probeKey).media
        return media?.srtp != nil
    }
}
