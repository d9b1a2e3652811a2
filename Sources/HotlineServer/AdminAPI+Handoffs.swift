// HotlineServer: the composition root.
// This file: `/api/handoffs` — a partner's hand-offs and status reports, authenticated by
// their HMAC signature alone (the partner holds no admin token, and an admin token says
// nothing about who wrote the matter). Refusals store nothing. docs/handoffs.md.
import Foundation
import Handoffs
import NIOCore
import NIOHTTP1
import Tickets

enum HandoffRoutes {
    /// Status names a partner may report: lower-case words (`received`, `handled`...), at most 40.
    static func isStatusName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first), text.count <= 40 else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || $0 == "_" }
    }

    static func routes(_ service: HandoffService) -> [String: AdminRoute] {
        [
            "POST /api/handoffs": { request, loop in
                let promise = loop.makePromise(of: AdminResponse.self)
                promise.completeWithTask { await receive(request, service: service) }
                return promise.futureResult
            },
            "POST /api/handoffs/{id}/status": { request, loop in
                let promise = loop.makePromise(of: AdminResponse.self)
                promise.completeWithTask { await receiveStatus(request, service: service) }
                return promise.futureResult
            },
        ]
    }

    /// The partner whose key signed the request, or the 401/400 refusal.
    static func authenticate(_ request: AdminRequest, service: HandoffService) -> Result<HandoffPartner, TicketRoutes.APIError> {
        let signature: HandoffSignature
        switch HandoffSignature.parse({ request.headers[$0.lowercased()] }) {
        case .success(let parsed): signature = parsed
        case .failure(let error): return .failure(TicketRoutes.APIError(.unauthorized, error.code, error.description))
        }
        guard let partner = service.configuration.partner(forKeyID: signature.keyID) else {
            let error = HandoffSignatureError.unknownKey(signature.keyID)
            return .failure(TicketRoutes.APIError(.unauthorized, error.code, error.description))
        }
        let now = service.now()
        let body = request.body.map { Array($0.readableBytesView) } ?? []
        switch HandoffSigner.verify(signature, method: "POST", path: request.path, body: body, keys: partner.keys, now: now,
                                    skew: partner.clockSkew) {
        case .success:
            break
        case .failure(let error):
            service.logger.warning("hand-off request refused", metadata: ["partner": "\(partner.name)", "reason": "\(error.code)"])
            return .failure(TicketRoutes.APIError(.unauthorized, error.code, error.description))
        }
        // Only now, signed by the partner, may it take a place among the nonces.
        let fresh = service.replays.withLock {
            $0.admit(keyID: signature.keyID, nonce: signature.nonce, timestamp: signature.timestamp, now: now)
        }
        guard fresh else {
            let error = HandoffSignatureError.replayed(signature.nonce)
            service.logger.warning("hand-off request refused", metadata: ["partner": "\(partner.name)", "reason": "replayed"])
            return .failure(TicketRoutes.APIError(.unauthorized, error.code, error.description))
        }
        return .success(partner)
    }

    static func receive(_ request: AdminRequest, service: HandoffService) async -> AdminResponse {
        let partner: HandoffPartner
        switch authenticate(request, service: service) {
        case .success(let p): partner = p
        case .failure(let error): return error.response
        }
        let matter: HandoffMatter
        do {
            matter = try decodeMatter(request)
        } catch {
            return error.response
        }
        do {
            // The same hand-off again (the partner's retry after a lost answer): the same answer.
            if let existing = try await service.read({ try $0.handoff(partner: partner.name, id: matter.handoffID) }),
               existing.direction == .inbound {
                return try answer(handoff: matter.handoffID, workOrder: existing.workOrderID, duplicate: true, status: .ok)
            }
            let inbound = InboundHandoff(partner: partner.name, matter: matter, body: request.bodyText, receivedAt: service.now())
            let order = try await service.store.acceptHandoff(inbound)
            service.logger.info("hand-off received", metadata: ["partner": "\(partner.name)", "handoff.id": "\(matter.handoffID)",
                                                                "work_order": "\(order.id)"])
            var response = try answer(handoff: matter.handoffID, workOrder: order.id, duplicate: false, status: .created)
            response.headers.append(("Location", "/api/tickets/\(order.id.rawValue)"))
            return response
        } catch let error as TicketStoreError {
            return TicketRoutes.APIError(error).response
        } catch {
            return TicketRoutes.APIError(.serviceUnavailable, "unavailable", "\(error)").response
        }
    }

    static func receiveStatus(_ request: AdminRequest, service: HandoffService) async -> AdminResponse {
        let partner: HandoffPartner
        switch authenticate(request, service: service) {
        case .success(let p): partner = p
        case .failure(let error): return error.response
        }
        struct Report: Decodable {
            var status: String
            var note: String?
            var at: String?
        }
        let id = request.parameters["id"] ?? ""
        let update: HandoffStatusUpdate
        do {
            guard let body = request.body, body.readableBytes > 0,
                  let report = try? JSONDecoder().decode(Report.self, from: Data(body.readableBytesView))
            else { throw TicketRoutes.APIError.badRequest("send the report as JSON: {\"status\": \"handled\", \"note\": \"...\"}") }
            guard isStatusName(report.status) else {
                throw TicketRoutes.APIError.badRequest("status is a lower-case word (received, handled...), not '\(report.status)'")
            }
            var at = service.now()
            if let text = report.at {
                guard let date = TicketEventRequest.parseInstant(text) else {
                    throw TicketRoutes.APIError.badRequest("at: '\(text)' is not an ISO 8601 instant with a zone")
                }
                at = date
            }
            if let note = report.note, note.count > 2000 { throw TicketRoutes.APIError.badRequest("the note is at most 2000 characters") }
            update = HandoffStatusUpdate(partner: partner.name, handoffID: id, status: report.status, note: report.note, at: at)
        } catch let error as TicketRoutes.APIError {
            return error.response
        } catch {
            return TicketRoutes.APIError.badRequest("\(error)").response
        }
        do {
            let order = try await service.store.recordPartnerStatus(update)
            let handoff = try await service.read { try $0.handoff(partner: partner.name, id: id) }
            service.logger.info("hand-off status reported", metadata: ["partner": "\(partner.name)", "handoff.id": "\(id)",
                                                                       "status": "\(update.status)"])
            return try TicketRoutes.json(HandoffAnswer(handoff: handoff, workOrder: order.id))
        } catch let error as TicketStoreError {
            return TicketRoutes.APIError(error).response
        } catch {
            return TicketRoutes.APIError(.serviceUnavailable, "unavailable", "\(error)").response
        }
    }

    /// The matter, checked: what a work order needs, within sane sizes.
    static func decodeMatter(_ request: AdminRequest) throws(TicketRoutes.APIError) -> HandoffMatter {
        guard let body = request.body, body.readableBytes > 0 else {
            throw .badRequest("send the matter as JSON (docs/handoffs.md)")
        }
        let matter: HandoffMatter
        do {
            matter = try JSONDecoder().decode(HandoffMatter.self, from: Data(body.readableBytesView))
        } catch DecodingError.keyNotFound(let key, _) {
            throw .badRequest("the matter needs '\(key.stringValue)'")
        } catch {
            throw .badRequest("the body is not a hand-off matter (JSON, docs/handoffs.md)")
        }
        func blank(_ text: String) -> Bool { text.allSatisfy(\.isWhitespace) }
        if blank(matter.handoffID) || matter.handoffID.count > 100 { throw .badRequest("handoff_id is 1 to 100 characters") }
        if blank(matter.workOrder) || matter.workOrder.count > 100 { throw .badRequest("work_order is 1 to 100 characters") }
        if blank(matter.caller) || matter.caller.count > 64 { throw .badRequest("caller is 1 to 64 characters") }
        if let subject = matter.subject, subject.count > 200 { throw .badRequest("the subject is at most 200 characters") }
        if matter.details.count > 10_000 { throw .badRequest("the details are at most 10000 characters") }
        for (name, value) in [("business_line", matter.businessLine), ("category", matter.category)] {
            if let value, blank(value) || value.count > 64 { throw .badRequest("\(name) is 1 to 64 characters, or null") }
        }
        return matter
    }

    /// `{"handoff_id", "work_order", "duplicate"}`: our work order is the partner's reference.
    struct Receipt: Encodable {
        var handoffID: String
        var workOrder: String
        var duplicate: Bool

        enum CodingKeys: String, CodingKey { case handoffID = "handoff_id", workOrder = "work_order", duplicate }
    }

    static func answer(handoff: String, workOrder: TicketID, duplicate: Bool, status: HTTPResponseStatus) throws -> AdminResponse {
        try TicketRoutes.json(Receipt(handoffID: handoff, workOrder: workOrder.rawValue, duplicate: duplicate), status: status)
    }

    /// A status report's answer: the hand-off as it now stands.
    struct HandoffAnswer: Encodable {
        var handoff: Handoff?
        var workOrder: TicketID

        enum CodingKeys: String, CodingKey { case handoff, workOrder = "work_order" }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(handoff, forKey: .handoff)
            try container.encode(workOrder.rawValue, forKey: .workOrder)
        }
    }
}
