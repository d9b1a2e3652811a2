import NIOHTTP1
import Testing
import Tickets
@testable import HotlineServer

/// The pure parts of the work-order routes: error statuses and parameter hints.
@Suite struct TicketRoutesTests {
    @Test func storeErrorsMapToTheirStatuses() {
        let id = TicketID(rawValue: "20261129-000001")!
        let refused = TicketLifecycleError(status: .accepted, event: "handled", reason: .notAllowed)
        let cases: [(TicketStoreError, HTTPResponseStatus, String)] = [
            (.eventRefused(id, refused), .conflict, "event_refused"),
            (.workOrderNotFound(id), .notFound, "not_found"),
            (.unknownUnit("nowhere"), .unprocessableEntity, "unknown_unit"),
            (.outsideUnit(id, unit: "yinchuan.xingqing"), .forbidden, "outside_unit"),
            (.invalidQuery("limit must be 1 to 1000, not 0"), .badRequest, "invalid_query"),
            (.closed, .serviceUnavailable, "unavailable"),
            (.database(code: 10, message: "disk I/O error"), .internalServerError, "internal"),
        ]
        for (error, status, code) in cases {
            let mapped = TicketRoutes.APIError(error)
            #expect(mapped.status == status, "\(error)")
            #expect(mapped.code == code)
            #expect(mapped.response.contentType == "application/json")
            #expect(mapped.response.body.contains("\"code\":\"\(code)\""))
        }
    }

    @Test func unknownParametersAreRefusedWithTheClosestName() {
        var request = AdminRequest(method: .GET, path: "/api/tickets", query: ["stauts": "closed"])
        #expect(throws: TicketRoutes.APIError.self) { try TicketRoutes.refuseUnknown(request, allowed: TicketRoutes.listParameters) }
        do {
            try TicketRoutes.refuseUnknown(request, allowed: TicketRoutes.listParameters)
        } catch {
            #expect(error.message.hasPrefix("unknown parameter 'stauts' (did you mean 'status'?)"))
        }
        request.query = ["status": "closed", "limit": "5"]
        #expect(throws: Never.self) { try TicketRoutes.refuseUnknown(request, allowed: TicketRoutes.listParameters) }
        #expect(TicketRoutes.editDistance("kitten", "sitting") == 3)
        #expect(TicketRoutes.editDistance("", "abc") == 3)
    }
}
