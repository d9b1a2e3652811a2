import Foundation
import Testing
@testable import Tickets

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("13800138000", "138****8000"),
        ("+8613800138000", "+861******8000"),
        ("010-12345678", "0***"),
        ("02712345678", "027****5678"),
        ("6012345", "60***45"),
        ("0951601234", "09******34"),
        ("12345", "1***5"),
        ("110", "1*0"),
        ("12", "**"),
        ("anonymous", "a***"),
        ("", ""),
    ])
    func masks(_ raw: String, _ masked: String) {
        #expect(PhoneNumber(raw).masked == masked)
        #expect("\(PhoneNumber(raw))" == masked, "interpolation never shows the number")
    }

    @Test func identifiesCallersOnlyByNumbers() {
        #expect(PhoneNumber("13800138000").identifiesCaller)
        #expect(PhoneNumber("+8613800138000").identifiesCaller)
        #expect(!PhoneNumber("anonymous").identifiesCaller)
        #expect(!PhoneNumber("").identifiesCaller)
        #expect(!PhoneNumber("1234").identifiesCaller)
        #expect(!PhoneNumber("alice").identifiesCaller)
    }

    @Test func ticketsDescribeThemselvesWithMaskedCallers() {
        let call = CallTicket(id: try! TicketID(parsing: "20261129-000042"), callID: "a@b", caller: "13800138000",
                              dialled: "12345", arrivedAt: date(2026, 11, 29, 15), dialplanVersion: "1")
        #expect(call.description.contains("138****8000"))
        #expect(!call.description.contains("13800138000"))
        #expect(!call.description.contains("12345"))
        let order = WorkOrder(id: call.id, channel: .phone, caller: call.caller, acceptedAt: call.arrivedAt)
        #expect(order.description.contains("138****8000"))
        #expect(!order.description.contains("13800138000"))
    }
}
