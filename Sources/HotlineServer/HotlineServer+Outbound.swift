// HotlineServer: the composition root.
// This file: starting the outbound service from trunks.yaml, and the campaign API
// (`GET/POST /api/campaigns`, jobs, pause, resume, progress).
import AdminWeb
import Dialplan
import Foundation
import Logging
import NIOCore
import NIOPosix
import Outbound
import Tickets

extension HotlineServer {
    /// The outbound service when trunks are configured (`--trunks FILE`, e.g.
    /// Dialplans/trunks.yaml); nil without (a server places no call unless told where to).
    static func startOutbound(_ configuration: ServerConfiguration, engines: [CallEnginePeer], store: any HotlineStore,
                              dialplan: Dialplan, sip: SocketAddress, logger: Logger) throws -> OutboundService? {
        let path: String
        switch configuration.trunksPath {
        case "off"?, nil: return nil
        case let given?: path = given
        }
        let trunks: TrunksFile
        do { trunks = try TrunksFile.load(contentsOf: path) } catch { throw StartError.trunks("\(error)") }
        guard let outboundStore = store as? any HotlineStore & OutboundJobStore else { return nil }
        let addresses: [String: SocketAddress]
        do { addresses = try OutboundService.resolve(trunks) } catch { throw StartError.trunks("\(path): cannot resolve a trunk: \(error)") }
        // A trunk pointing at this very server would only call itself (the shipped file's front
        // on a one-node `make run`): outbound calls stay off, said once.
        if let own = addresses.first(where: { $0.value.port == sip.port && ($0.value.ipAddress == sip.ipAddress || sip.ipAddress == "0.0.0.0") }) {
            logger.warning("outbound calls off: trunk points at this server's own SIP address", metadata: ["trunk": "\(own.key)", "file": "\(path)"])
            return nil
        }
        var owners: VehicleOwners?
        if let ownersPath = configuration.vehicleOwnersPath {
            do { owners = try VehicleOwners.load(contentsOf: ownersPath) } catch { throw StartError.trunks("vehicle owners: \(error)") }
        }
        let service = try OutboundService(loop: engines[0].eventLoop, engines: engines, store: outboundStore, trunks: trunks,
                                          dialplan: dialplan, owners: owners, configuration: configuration, logger: logger)
        try service.start()
        // Queued callbacks dial the citizen through the default trunk once an agent takes them.
        if let trunk = trunks.trunk(named: nil), let destination = addresses[trunk.name] {
            for peer in engines {
                try peer.eventLoop.submit { peer.engine.value.callbackTrunk = (trunk, destination) }.wait()
            }
        }
        return service
    }
}

/// The campaign API: outbound calls grouped for one purpose, paced and paused together.
enum CampaignRoutes {
    struct CampaignBody: Decodable {
        var id: String
        var flow: String
        var trunk: String?
        var calls_per_second: Double?
        var max_concurrent: Int?
        var max_attempts: Int?
        var paused: Bool?
    }

    struct JobsBody: Decodable {
        struct Item: Decodable {
            var number: String
            var work_order: String?
            var variables: [String: String]?
        }
        var jobs: [Item]
        var not_before: Date?
    }

    static func routes(_ service: OutboundService?, auth: AdminAuth, pool: NIOThreadPool) -> [String: AdminRoute] {
        func guarded(_ permission: AdminAccess, _ body: @escaping @Sendable (AdminRequest, EventLoop, OutboundService) -> EventLoopFuture<AdminResponse>) -> AdminRoute {
            { request, loop in
                if case .refused(let refusal) = auth.authorize(request, for: permission) { return loop.makeSucceededFuture(refusal) }
                guard let service else {
                    return loop.makeSucceededFuture(.json(#"{"error":"outbound calls are off: no trunks configured (--trunks)","code":"not_configured"}"# + "\n", status: .serviceUnavailable))
                }
                return body(request, loop, service).flatMapErrorThrowing { error in
                    .json("{\"error\":\(HotlineServer.jsonString("\(error)")),\"code\":\"invalid_request\"}\n", status: .badRequest)
                }
            }
        }
        return [
            "GET /api/campaigns": guarded(.readContactCentre) { _, loop, service in
                service.campaigns().hop(to: loop).flatMap { campaigns in
                    pool.runIfActive(eventLoop: loop) {
                        let items = try campaigns.map { c in try json(c, progress: service.progress(campaign: c.id)) }
                        return .json("{\"campaigns\":[\(items.joined(separator: ","))]}\n")
                    }
                }
            },
            "POST /api/campaigns": guarded(.operateContactCentre) { request, loop, service in
                do {
                    let body = try decoder.decode(CampaignBody.self, from: Data(request.bodyText.utf8))
                    guard NodeID.isValid(body.id) else { throw RouteError("campaign id '\(body.id)': lower_snake_case letters and digits") }
                    let campaign = OutboundCampaign(id: body.id, flow: body.flow, trunk: body.trunk, paused: body.paused ?? false,
                                                    callsPerSecond: body.calls_per_second, maxConcurrent: body.max_concurrent,
                                                    maxAttempts: min(20, max(1, body.max_attempts ?? 3)), createdAt: Date())
                    return service.createCampaign(campaign).hop(to: loop).map { c in
                        .json(json(c, progress: OutboundProgress()) + "\n", status: .created)
                    }
                } catch { return loop.makeFailedFuture(error) }
            },
            "GET /api/campaigns/{id}": guarded(.readContactCentre) { request, loop, service in
                let id = request.parameters["id"] ?? ""
                return service.campaigns().hop(to: loop).flatMap { campaigns in
                    guard let c = campaigns.first(where: { $0.id == id }) else {
                        return loop.makeSucceededFuture(.json(#"{"error":"no such campaign","code":"not_found"}"# + "\n", status: .notFound))
                    }
                    return pool.runIfActive(eventLoop: loop) { .json(try json(c, progress: service.progress(campaign: id)) + "\n") }
                }
            },
            "POST /api/campaigns/{id}/jobs": guarded(.operateContactCentre) { request, loop, service in
                do {
                    let body = try decoder.decode(JobsBody.self, from: Data(request.bodyText.utf8))
                    guard !body.jobs.isEmpty, body.jobs.count <= 10_000 else { throw RouteError("jobs: 1 to 10000 numbers") }
                    for item in body.jobs where !TrunksFile.isCallable(item.number) {
                        throw RouteError("'\(item.number)' is not a number we can call")
                    }
                    return service.addJobs(campaign: request.parameters["id"] ?? "",
                                           numbers: body.jobs.map { ($0.number, $0.work_order, $0.variables ?? [:]) },
                                           notBefore: body.not_before).hop(to: loop).map { jobs in
                        .json("{\"jobs\":[\(jobs.map { "\"\($0.id)\"" }.joined(separator: ","))]}\n", status: .created)
                    }
                } catch { return loop.makeFailedFuture(error) }
            },
            "POST /api/campaigns/{id}/pause": guarded(.operateContactCentre) { request, loop, service in
                service.setPaused(true, campaign: request.parameters["id"] ?? "").hop(to: loop).map { c in
                    .json(json(c, progress: nil) + "\n")
                }
            },
            "POST /api/campaigns/{id}/resume": guarded(.operateContactCentre) { request, loop, service in
                service.setPaused(false, campaign: request.parameters["id"] ?? "").hop(to: loop).map { c in
                    .json(json(c, progress: nil) + "\n")
                }
            },
        ]
    }

    struct RouteError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static func json(_ c: OutboundCampaign, progress: OutboundProgress?) -> String {
        var fields = ["\"id\":\(HotlineServer.jsonString(c.id))", "\"flow\":\(HotlineServer.jsonString(c.flow))",
                      "\"paused\":\(c.paused)", "\"max_attempts\":\(c.maxAttempts)"]
        if let trunk = c.trunk { fields.append("\"trunk\":\(HotlineServer.jsonString(trunk))") }
        if let cps = c.callsPerSecond { fields.append("\"calls_per_second\":\(cps)") }
        if let max = c.maxConcurrent { fields.append("\"max_concurrent\":\(max)") }
        if let progress {
            let states = OutboundJob.State.allCases.map { "\"\($0.rawValue)\":\(progress.byState[$0.rawValue] ?? 0)" }.joined(separator: ",")
            let outcomes = progress.lastOutcomes.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
            fields.append("\"progress\":{\"jobs\":\(progress.jobs),\"attempts\":\(progress.attempts),\"by_state\":{\(states)},\"last_outcomes\":{\(outcomes)}}")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
