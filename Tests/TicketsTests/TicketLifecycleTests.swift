// Every transition of the work-order lifecycle, legal and illegal: each status is reached by
// a path of events, then every kind of event is tried on it.

import Foundation
import Testing
@testable import Tickets

@Suite struct TicketLifecycleTests {
    static let unitA: UnitID = "xingqing"
    static let unitB: UnitID = "jinfeng"
    static let start = date(2026, 11, 2, 9)

    /// A path of events reaching each status (nil: nothing yet). Dispatches go to unit A.
    static let paths: [(TicketStatus?, [TicketEvent.Kind])] = [
        (nil, []),
        (.accepted, [.accepted]),
        (.answeredDirectly, [.accepted, .answeredDirectly]),
        (.dispatched, [.accepted, .dispatched(to: unitA)]),
        (.signed, [.accepted, .dispatched(to: unitA), .signed(by: unitA)]),
        (.handled, [.accepted, .dispatched(to: unitA), .signed(by: unitA), .handled]),
        (.fedBack, [.accepted, .dispatched(to: unitA), .signed(by: unitA), .handled, .fedBack]),
        (.visited, [.accepted, .dispatched(to: unitA), .signed(by: unitA), .handled, .fedBack, .returnVisited(score: 5)]),
        (.closed, [.accepted, .dispatched(to: unitA), .signed(by: unitA), .handled, .fedBack, .closed]),
        (.reopened, [.accepted, .answeredDirectly, .reopened(reason: "caller not satisfied")]),
    ]

    /// One event of each kind; `dispatched` to another unit than A, `signed` by A.
    static let probes: [TicketEvent.Kind] = [
        .accepted, .answeredDirectly, .dispatched(to: unitB), .signed(by: unitA), .handled, .fedBack,
        .returnVisited(score: 4), .closed, .reopened(reason: "handling inadequate"),
    ]

    enum Expected: Equatable {
        case to(TicketStatus)
        case refused(TicketLifecycleError.Reason)
    }

    static let x = Expected.refused(.notAllowed)

    /// The whole table: rows in the order of `paths`, columns in the order of `probes`.
    static let table: [[Expected]] = [
        // accepted             answered_directly   dispatched(B)      signed(A)          handled          feedback         return_visit       closed           reopened
        [.to(.accepted),        .refused(.notAccepted), .refused(.notAccepted), .refused(.notAccepted), .refused(.notAccepted),
         .refused(.notAccepted), .refused(.notAccepted), .refused(.notAccepted), .refused(.notAccepted)],  // (none)
        [.refused(.alreadyAccepted), .to(.answeredDirectly), .to(.dispatched), x, x, x, x, x, x],          // accepted
        [.refused(.alreadyAccepted), x, x, x, x, x, .to(.visited), .to(.closed), .to(.reopened)],          // answered_directly
        [.refused(.alreadyAccepted), x, .to(.dispatched), .to(.signed), x, x, x, x, x],                    // dispatched(A)
        [.refused(.alreadyAccepted), x, .to(.dispatched), x, .to(.handled), x, x, x, x],                   // signed(A)
        [.refused(.alreadyAccepted), x, x, x, x, .to(.fedBack), x, x, .to(.reopened)],                     // handled
        [.refused(.alreadyAccepted), x, x, x, x, x, .to(.visited), .to(.closed), .to(.reopened)],          // fed_back
        [.refused(.alreadyAccepted), x, x, x, x, x, x, .to(.closed), .to(.reopened)],                      // visited
        [.refused(.alreadyAccepted), x, x, x, x, x, x, x, .to(.reopened)],                                 // closed
        [.refused(.alreadyAccepted), .to(.answeredDirectly), .to(.dispatched), x, x, x, x, x, x],          // reopened
    ]

    static func lifecycle(after kinds: [TicketEvent.Kind]) throws -> TicketLifecycle {
        try TicketLifecycle(replaying: kinds.enumerated().map { index, kind in
            TicketEvent(kind, at: start.addingTimeInterval(Double(index) * 60), actor: "test")
        })
    }

    static func probe(_ kind: TicketEvent.Kind) -> TicketEvent {
        TicketEvent(kind, at: start.addingTimeInterval(3600), actor: "agent:1001")
    }

    @Test func everyEventOnEveryStatus() throws {
        #expect(Self.table.count == Self.paths.count)
        var checked = 0
        for (row, (status, path)) in Self.paths.enumerated() {
            let lifecycle = try Self.lifecycle(after: path)
            #expect(lifecycle.status == status)
            #expect(Self.table[row].count == Self.probes.count)
            for (column, kind) in Self.probes.enumerated() {
                var next = lifecycle
                let context = "\(status?.rawValue ?? "none") + \(kind.name)"
                switch Self.table[row][column] {
                case .to(let expected):
                    #expect(throws: Never.self, "\(context)") { try next.apply(Self.probe(kind)) }
                    #expect(next.status == expected, "\(context)")
                    #expect(next.eventCount == lifecycle.eventCount + 1)
                case .refused(let reason):
                    #expect(throws: TicketLifecycleError(status: status, event: kind.name, reason: reason), "\(context)") {
                        try next.apply(Self.probe(kind))
                    }
                    #expect(next == lifecycle, "a refused event leaves the lifecycle as it was (\(context))")
                }
                checked += 1
            }
        }
        #expect(checked == 90)
    }

    @Test func allowedEventsMatchTheTable() throws {
        for (row, (status, path)) in Self.paths.enumerated() {
            let lifecycle = try Self.lifecycle(after: path)
            let legal = Self.probes.enumerated().compactMap { column, kind -> String? in
                if case .to = Self.table[row][column] { kind.name } else { nil }
            }
            var allowed = Set(lifecycle.allowedEvents)
            // A dispatched work order may also be re-dispatched and signed: the table probes
            // both; a signed one may be re-dispatched, which the table probes too.
            #expect(allowed.isSubset(of: Set(TicketEvent.Kind.names)), "\(String(describing: status))")
            allowed.subtract(legal)
            #expect(allowed.isEmpty, "\(String(describing: status)): allowed but refused by the table: \(allowed)")
            #expect(Set(legal).isSubset(of: Set(lifecycle.allowedEvents)))
        }
    }

    // MARK: - Units

    @Test func signingMustBeByTheUnitItIsDispatchedTo() throws {
        var lifecycle = try Self.lifecycle(after: [.accepted, .dispatched(to: Self.unitA)])
        #expect(throws: TicketLifecycleError(status: .dispatched, event: "signed",
                                             reason: .wrongUnit(expected: Self.unitA, got: Self.unitB))) {
            try lifecycle.apply(Self.probe(.signed(by: Self.unitB)))
        }
        #expect(lifecycle.unit == Self.unitA)
    }

    @Test func reDispatchingToTheSameUnitIsRefused() throws {
        for path: [TicketEvent.Kind] in [[.accepted, .dispatched(to: Self.unitA)],
                                         [.accepted, .dispatched(to: Self.unitA), .signed(by: Self.unitA)]] {
            var lifecycle = try Self.lifecycle(after: path)
            let status = lifecycle.status
            #expect(throws: TicketLifecycleError(status: status, event: "dispatched", reason: .alreadyAtUnit(Self.unitA))) {
                try lifecycle.apply(Self.probe(.dispatched(to: Self.unitA)))
            }
        }
    }

    @Test func reDispatchMovesTheWorkOrderAndTheNewUnitSigns() throws {
        var lifecycle = try Self.lifecycle(after: [.accepted, .dispatched(to: Self.unitA), .signed(by: Self.unitA)])
        try lifecycle.apply(Self.probe(.dispatched(to: Self.unitB)))
        #expect(lifecycle.status == .dispatched)
        #expect(lifecycle.unit == Self.unitB)
        #expect(throws: TicketLifecycleError.self) { try lifecycle.apply(Self.probe(.signed(by: Self.unitA))) }
        try lifecycle.apply(Self.probe(.signed(by: Self.unitB)))
        #expect(lifecycle.status == .signed)
    }

    @Test func aReopenedWorkOrderMayGoBackToItsUnit() throws {
        var lifecycle = try Self.lifecycle(after: [.accepted, .dispatched(to: Self.unitA), .signed(by: Self.unitA), .handled,
                                                   .reopened(reason: "not fixed")])
        #expect(lifecycle.unit == Self.unitA)
        try lifecycle.apply(Self.probe(.dispatched(to: Self.unitA)))
        #expect(lifecycle.status == .dispatched)
    }

    // MARK: - Values

    @Test func returnVisitScoresAreOneToFive() throws {
        for score in [0, 6, -1] {
            var lifecycle = try Self.lifecycle(after: [.accepted, .answeredDirectly])
            #expect(throws: TicketLifecycleError(status: .answeredDirectly, event: "return_visit",
                                                 reason: .scoreOutOfRange(score))) {
                try lifecycle.apply(Self.probe(.returnVisited(score: score)))
            }
        }
        for score in 1...5 {
            var lifecycle = try Self.lifecycle(after: [.accepted, .answeredDirectly])
            try lifecycle.apply(Self.probe(.returnVisited(score: score)))
            #expect(lifecycle.status == .visited)
        }
    }

    @Test func reopeningNeedsAReasonAndEveryEventAnActor() throws {
        var lifecycle = try Self.lifecycle(after: [.accepted, .answeredDirectly])
        #expect(throws: TicketLifecycleError(status: .answeredDirectly, event: "reopened", reason: .blankReason)) {
            try lifecycle.apply(Self.probe(.reopened(reason: "  ")))
        }
        #expect(throws: TicketLifecycleError(status: .answeredDirectly, event: "closed", reason: .blankActor)) {
            try lifecycle.apply(TicketEvent(.closed, at: Self.start.addingTimeInterval(7200), actor: " "))
        }
        var fresh = TicketLifecycle()
        #expect(throws: TicketLifecycleError(status: nil, event: "accepted", reason: .blankActor)) {
            try fresh.apply(TicketEvent(.accepted, at: Self.start, actor: ""))
        }
    }

    @Test func eventsCannotGoBackInTime() throws {
        var lifecycle = try Self.lifecycle(after: [.accepted, .dispatched(to: Self.unitA)])
        let last = try #require(lifecycle.lastEventAt)
        #expect(throws: TicketLifecycleError(status: .dispatched, event: "signed", reason: .earlierThanPreviousEvent(last))) {
            try lifecycle.apply(TicketEvent(.signed(by: Self.unitA), at: last.addingTimeInterval(-0.001), actor: "unit"))
        }
        // The same instant is fine (an IVR accepts and answers in one go).
        try lifecycle.apply(TicketEvent(.signed(by: Self.unitA), at: last, actor: "unit"))
        #expect(lifecycle.status == .signed)
    }

    @Test func errorsReadWell() {
        let wrongUnit = TicketLifecycleError(status: .dispatched, event: "signed",
                                             reason: .wrongUnit(expected: Self.unitA, got: Self.unitB))
        #expect(wrongUnit.description == "'signed' by jinfeng is not allowed on a work order that is dispatched: it is dispatched to xingqing")
        let notAllowed = TicketLifecycleError(status: .closed, event: "handled", reason: .notAllowed)
        #expect(notAllowed.description == "'handled' is not allowed on a work order that is closed")
        let first = TicketLifecycleError(status: nil, event: "closed", reason: .notAccepted)
        #expect(first.description.contains("the first event must be 'accepted'"))
    }

    @Test func completedStatuses() {
        #expect(TicketStatus.completed == [.answeredDirectly, .handled, .fedBack, .visited, .closed])
        #expect(TicketStatus.allCases.filter(\.acceptsRepeatCalls)
            == [.accepted, .dispatched, .signed, .handled, .fedBack, .visited, .reopened])
    }

    @Test func eventKindsRoundTripThroughTheirStoredParts() {
        for kind in Self.probes + [TicketEvent.Kind.returnVisited(score: 1)] {
            #expect(TicketEvent.Kind(name: kind.name, unit: kind.unit, score: {
                if case .returnVisited(let score) = kind { score } else { nil }
            }(), reason: { if case .reopened(let reason) = kind { reason } else { nil } }()) == kind)
        }
        #expect(TicketEvent.Kind(name: "dispatched") == nil, "a dispatch needs its unit")
        #expect(TicketEvent.Kind(name: "escalated") == nil)
        #expect(Set(Self.probes.map(\.name)) == Set(TicketEvent.Kind.names))
    }
}
