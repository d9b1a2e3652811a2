// HotlineServer: the composition root.
// This file: starting the 110 linkage — handoffs.yaml read and checked (secrets from the
// environment or files) before any socket opens, the outbox service started and handed to
// every call loop, and the call engine's side: a transfer to a partner's target hands off.
import Dialplan
import Foundation
import Handoffs
import Logging
import NIOCore
import NIOPosix
import Tickets

extension HotlineServer {
    /// Reads `--handoffs` if given; every issue, located, stops start-up.
    static func loadHandoffs(_ configuration: ServerConfiguration, dialplan: Dialplan,
                             logger: Logger) throws(StartError) -> HandoffConfiguration? {
        guard let path = configuration.handoffsPath else { return nil }
        let loaded: HandoffConfiguration
        do {
            loaded = try HandoffConfiguration.load(path: path, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw .handoffs(error.description)
        }
        let declared = Set(dialplan.transferTargets.map { $0.lowercased() })
        for partner in loaded.partners {
            for target in partner.transferTargets where !declared.contains(target.lowercased()) {
                logger.warning("hand-offs: a transfer target is not among the dialplan's transfer_targets",
                               metadata: ["partner": "\(partner.name)", "target": "\(target)", "dialplan": "\(dialplan.name)"])
            }
            logger.info("hand-off partner", metadata: ["partner": "\(partner)"])
        }
        return loaded
    }

    /// The outbox service, linked to every call engine and running; nil without hand-offs.
    static func startHandoffs(_ configuration: HandoffConfiguration?, store: any HotlineStore, pool: NIOThreadPool,
                              engines: [CallEnginePeer], logger: Logger) async -> HandoffService? {
        guard let configuration else { return nil }
        let service = HandoffService(configuration: configuration, store: store, pool: pool, logger: logger)
        for peer in engines {
            try? await peer.eventLoop.submit { peer.engine.value.handoffs = service }.get()
        }
        service.start()
        return service
    }
}

extension CallEngine {
    /// A dialplan transfer to `target`: if a partner's target, the call's work order is handed
    /// off (at the moment of the transfer, whatever the REFER's outcome).
    func handOffIfPartner(_ call: Call, to target: String) {
        guard let handoffs, let partner = handoffs.configuration.partner(forTransferTarget: target),
              let id = call.ticketID, !call.handedOff else { return }
        call.handedOff = true
        handoffs.handOff(call: id, caller: call.caller, businessLine: call.businessLine, category: call.category,
                         summary: call.execution.ticket.summary, partner: partner, at: wallClock())
    }
}
