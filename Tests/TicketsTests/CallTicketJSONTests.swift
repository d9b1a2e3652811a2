import Foundation
import Testing
@testable import Tickets

@Suite struct CallTicketJSONTests {
    static let answered = CallTicket(
        id: try! TicketID(parsing: "20261129-000042"),
        callID: "a84b4c76e66710@pc33.example.com",
        caller: "13800138000",
        dialled: "12345",
        arrivedAt: date(2026, 11, 29, 15, 5, 3, milliseconds: 42),
        answeredAt: date(2026, 11, 29, 15, 5, 3, milliseconds: 250),
        endedAt: date(2026, 11, 29, 15, 7, 41, milliseconds: 900),
        keys: "13",
        menuPath: ["language_menu:1", "main_menu:3"],
        businessLine: "enterprise",
        category: .complaint,
        disposition: .completedInIVR,
        sipStatus: 200,
        dialplanVersion: "2026.11.1",
        queue: QueueOutcome(queue: "enterprise_experts", agent: "a1003", enqueuedAt: date(2026, 11, 29, 15, 5, 20),
                            agentAnsweredAt: date(2026, 11, 29, 15, 5, 52, milliseconds: 500), waitMilliseconds: 32_500,
                            talkMilliseconds: 109_400, overflowed: true))

    static let rejected = CallTicket(
        id: try! TicketID(parsing: "20261129-000043"),
        callID: "f81d4fae-7dec@192.0.2.4",
        caller: "anonymous",
        dialled: "12346",
        arrivedAt: date(2026, 11, 29, 15, 5, 4),
        endedAt: date(2026, 11, 29, 15, 5, 4, milliseconds: 3),
        disposition: .rejected,
        sipStatus: 404,
        dialplanVersion: "2026.11.1")

    @Test func encodesTheCommandLineFormatExactly() throws {
        let data = try CallTicket.jsonEncoder.encode([Self.answered, Self.rejected])
        let golden = """
            [
              {
                "abandoned" : false,
                "agent" : "a1003",
                "agent_answered_at" : "2026-11-29T07:05:52.500Z",
                "answered_at" : "2026-11-29T07:05:03.250Z",
                "arrived_at" : "2026-11-29T07:05:03.042Z",
                "business_line" : "enterprise",
                "call_id" : "a84b4c76e66710@pc33.example.com",
                "callback" : false,
                "caller" : "13800138000",
                "category" : "complaint",
                "dialled" : "12345",
                "dialplan_version" : "2026.11.1",
                "direction" : "inbound",
                "disposition" : "completed_in_ivr",
                "ended_at" : "2026-11-29T07:07:41.900Z",
                "enqueued_at" : "2026-11-29T07:05:20.000Z",
                "id" : "20261129-000042",
                "keys" : "13",
                "menu_path" : [
                  "language_menu:1",
                  "main_menu:3"
                ],
                "overflowed" : true,
                "queue" : "enterprise_experts",
                "sip_status" : 200,
                "talk_ms" : 109400,
                "wait_ms" : 32500
              },
              {
                "abandoned" : false,
                "agent" : null,
                "agent_answered_at" : null,
                "answered_at" : null,
                "arrived_at" : "2026-11-29T07:05:04.000Z",
                "business_line" : null,
                "call_id" : "f81d4fae-7dec@192.0.2.4",
                "callback" : false,
                "caller" : "anonymous",
                "category" : null,
                "dialled" : "12346",
                "dialplan_version" : "2026.11.1",
                "direction" : "inbound",
                "disposition" : "rejected",
                "ended_at" : "2026-11-29T07:05:04.003Z",
                "enqueued_at" : null,
                "id" : "20261129-000043",
                "keys" : "",
                "menu_path" : [

                ],
                "overflowed" : false,
                "queue" : null,
                "sip_status" : 404,
                "talk_ms" : null,
                "wait_ms" : null
              }
            ]
            """
        #expect(String(decoding: data, as: UTF8.self) == golden)
    }

    @Test func decodesWhatItEncodes() throws {
        let tickets = [Self.answered, Self.rejected]
        let data = try CallTicket.jsonEncoder.encode(tickets)
        #expect(try CallTicket.jsonDecoder.decode([CallTicket].self, from: data) == tickets)
    }

    @Test func refusesMalformedTimes() {
        let json = #"{"id":"20261129-000042","call_id":"c","caller":"1","dialled":"2","#
            + #""arrived_at":"2026-11-29 07:05:03","dialplan_version":"v"}"#
        #expect(throws: DecodingError.self) {
            try CallTicket.jsonDecoder.decode(CallTicket.self, from: Data(json.utf8))
        }
    }

    @Test func keepsPhoneNumbersOutOfItsDescription() {
        let text = String(describing: Self.answered)
        #expect(text.contains("20261129-000042"))
        #expect(text.contains("completed_in_ivr"))
        #expect(!text.contains("13800138000"))
        #expect(!text.contains("12345"))
    }

    @Test func roundsTimesToTheMillisecondItKeeps() {
        var ticket = Self.rejected
        ticket.answeredAt = date(2026, 11, 29, 15, 5, 4).addingTimeInterval(0.0004)
        #expect(ticket.answeredAt.map(TicketTimestamp.format) == "2026-11-29T07:05:04.000Z")
        #expect(ticket.answeredAt == TicketTimestamp.parse("2026-11-29T07:05:04.000Z"))
        let outcome = CallOutcome(endedAt: date(2026, 11, 29, 15, 5, 4).addingTimeInterval(0.0016), disposition: .noInput)
        #expect(TicketTimestamp.format(outcome.endedAt) == "2026-11-29T07:05:04.002Z")
        #expect(outcome.endedAt == TicketTimestamp.parse("2026-11-29T07:05:04.002Z"))
    }
}
