import Foundation
import NIOCore
import Media
import SIPEndpoint
import Tickets
import Timers

extension CallEngine {
    /// Refuses new calls and answers the front's OPTIONS probes with 503 (a node draining
    /// behind the front); calls in progress go on.
    func refuseNewCalls() {
        draining = true
    }

    /// Refuses new calls (503) and hangs up the current ones.
    func drain() {
        draining = true
        for call in callsByID.values.sorted(by: { $0.id < $1.id }) {
            end(call, disposition: .serverShutdown, finalStatus: .serviceUnavailable)
        }
        transport?.flush()
    }

    /// Stops the tick and closes the SIP socket.
    func stop() -> EventLoopFuture<Void> {
        tickTask?.cancel()
        tickTask = nil
        return transport?.close() ?? eventLoop.makeSucceededVoidFuture()
    }

    /// What this loop's engine counted, to be summed over all loops for /metrics.
    func snapshot() -> EngineSnapshot {
        var engine = metrics
        for leg in agentLegs.values {
            guard let rtp = leg.rtp else { continue }
            engine.agentRTPReceived += rtp.stats.packetsReceived
            engine.agentRTPSent += rtp.stats.packetsSent
        }
        var snapshot = EngineSnapshot(activeCalls: activeCalls, draining: draining, engine: engine, sip: endpoint.metrics,
                                      serverTransactions: endpoint.serverTransactionCount, clientTransactions: endpoint.clientTransactionCount,
                                      rtp: media.statistics, rtpSessions: media.openSessions, rtpPortsFree: media.ports.available,
                                      rejections: admission.rejections, loopLag: admission.smoothedLag, shedding: admission.shedding)
        snapshot.agentLegsUp = agentLegs.values.count { $0.state == .answered }
        snapshot.timersPending = timers.count + endpoint.timerCount
        snapshot.timersStored = timers.storedCount + endpoint.timerStoredCount
        if let contactCentre { snapshot.contactCentre = contactCentre.metricsSnapshot() }
        return snapshot
    }
}

/// One engine's counters; `+` sums those of several event loops.
struct EngineSnapshot: Sendable {
    var activeCalls = 0
    var draining = false
    var engine = EngineMetrics()
    var sip = SIPMetrics()
    var serverTransactions = 0
    var clientTransactions = 0
    var rtp = RTPStatistics()
    var rtpSessions = 0
    var rtpPortsFree = 0
    var rejections: [AdmissionControl.Reason: UInt64] = [:]
    var loopLag: Duration = .zero
    var shedding = false
    var agentLegsUp = 0
    /// Live timers of the call engine's and the SIP endpoint's queues.
    var timersPending = 0
    /// Their heap entries, cancelled ones not yet removed included.
    var timersStored = 0
    /// From the control loop only.
    var contactCentre: ContactCentreSnapshot?

    static func + (a: EngineSnapshot, b: EngineSnapshot) -> EngineSnapshot {
        func add<K>(_ x: [K: UInt64], _ y: [K: UInt64]) -> [K: UInt64] { x.merging(y, uniquingKeysWith: +) }
        var s = a
        s.activeCalls += b.activeCalls
        s.draining = a.draining || b.draining
        s.engine.callsAccepted += b.engine.callsAccepted
        s.engine.answered += b.engine.answered
        s.engine.infoDigits += b.engine.infoDigits
        s.engine.strayACKs += b.engine.strayACKs
        s.engine.ticketErrors += b.engine.ticketErrors
        s.engine.unsentOnStreams += b.engine.unsentOnStreams
        s.engine.agentInvites += b.engine.agentInvites
        s.engine.agentAnswers += b.engine.agentAnswers
        s.engine.outboundInvites += b.engine.outboundInvites
        s.engine.outboundAnswered += b.engine.outboundAnswered
        s.engine.outboundFailed += b.engine.outboundFailed
        s.engine.agentRTPReceived += b.engine.agentRTPReceived
        s.engine.agentRTPSent += b.engine.agentRTPSent
        s.agentLegsUp += b.agentLegsUp
        s.timersPending += b.timersPending
        s.timersStored += b.timersStored
        s.contactCentre = a.contactCentre ?? b.contactCentre
        s.engine.callsByDisposition = add(a.engine.callsByDisposition, b.engine.callsByDisposition)
        s.engine.rejectedByStatus = add(a.engine.rejectedByStatus, b.engine.rejectedByStatus)
        s.sip.requestsIn = add(a.sip.requestsIn, b.sip.requestsIn)
        s.sip.requestsOut = add(a.sip.requestsOut, b.sip.requestsOut)
        s.sip.responsesIn = add(a.sip.responsesIn, b.sip.responsesIn)
        s.sip.responsesOut = add(a.sip.responsesOut, b.sip.responsesOut)
        s.sip.parseErrors += b.sip.parseErrors
        s.sip.dropped += b.sip.dropped
        s.sip.keepAlives += b.sip.keepAlives
        s.sip.retransmissionsAbsorbed += b.sip.retransmissionsAbsorbed
        s.sip.strayResponses += b.sip.strayResponses
        s.sip.clientTimeouts += b.sip.clientTimeouts
        s.serverTransactions += b.serverTransactions
        s.clientTransactions += b.clientTransactions
        s.rtp.packetsSent += b.rtp.packetsSent
        s.rtp.packetsDropped += b.rtp.packetsDropped
        s.rtp.packetsReceived += b.rtp.packetsReceived
        s.rtp.invalidPacketsReceived += b.rtp.invalidPacketsReceived
        s.rtp.srtpRejected += b.rtp.srtpRejected
        s.rtp.digitsReceived += b.rtp.digitsReceived
        s.rtpSessions += b.rtpSessions
        s.rtpPortsFree += b.rtpPortsFree
        s.rejections = add(a.rejections, b.rejections)
        s.loopLag = max(a.loopLag, b.loopLag)
        s.shedding = a.shedding || b.shedding
        return s
    }

    /// Publishes calls, SIP traffic, RTP, admission, timers and the ticket writer (the latency
    /// histograms are recorded into the registry as they happen).
    func publish(into p: inout MetricsPublisher, tickets: TicketStoreMetrics, loops: Int) {
        let metrics = engine
        p.add("hotline_active_calls", .gauge, help: "Calls in progress.", value: activeCalls)
        p.add("hotline_call_loops", .gauge, help: "Event loops sharing the calls.", value: loops)
        p.add("hotline_calls_accepted_total", .counter, help: "INVITEs that passed admission and routing.", value: metrics.callsAccepted)
        p.add("hotline_calls_answered_total", .counter, help: "Calls answered with 200 OK.", value: metrics.answered)
        for (disposition, n) in metrics.callsByDisposition.sorted(by: { $0.key < $1.key }) {
            p.add("hotline_calls_total", .counter, help: "Calls ended, by ticket disposition.", labels: [("disposition", disposition)], value: n)
        }
        for (status, n) in metrics.rejectedByStatus.sorted(by: { $0.key < $1.key }) {
            p.add("hotline_calls_rejected_total", .counter, help: "INVITEs refused before a dialog, by status.", labels: [("status", String(status))], value: n)
        }
        for (method, n) in sip.requestsIn.sorted(by: { $0.key < $1.key }) {
            p.add("hotline_sip_requests_total", .counter, help: "SIP requests by direction and method.", labels: [("direction", "in"), ("method", method)], value: n)
        }
        for (method, n) in sip.requestsOut.sorted(by: { $0.key < $1.key }) {
            p.add("hotline_sip_requests_total", .counter, help: "SIP requests by direction and method.", labels: [("direction", "out"), ("method", method)], value: n)
        }
        for (status, n) in sip.responsesIn.sorted(by: { $0.key < $1.key }) {
            p.add("hotline_sip_responses_total", .counter, help: "SIP responses by direction and status.", labels: [("direction", "in"), ("status", String(status))], value: n)
        }
        for (status, n) in sip.responsesOut.sorted(by: { $0.key < $1.key }) {
            p.add("hotline_sip_responses_total", .counter, help: "SIP responses by direction and status.", labels: [("direction", "out"), ("status", String(status))], value: n)
        }
        p.add("hotline_sip_parse_errors_total", .counter, help: "SIP messages that failed to parse.", value: sip.parseErrors)
        p.add("hotline_sip_dropped_total", .counter, help: "SIP messages dropped without an answer.", value: sip.dropped)
        p.add("hotline_sip_retransmissions_absorbed_total", .counter, help: "Retransmitted requests answered from the transaction.", value: sip.retransmissionsAbsorbed)
        p.add("hotline_sip_transactions", .gauge, help: "Live SIP transactions.", labels: [("side", "server")], value: serverTransactions)
        p.add("hotline_sip_transactions", .gauge, help: "Live SIP transactions.", labels: [("side", "client")], value: clientTransactions)
        p.add("hotline_rtp_packets_total", .counter, help: "RTP packets by direction.", labels: [("direction", "out")], value: rtp.packetsSent)
        p.add("hotline_rtp_packets_total", .counter, help: "RTP packets by direction.", labels: [("direction", "in")], value: rtp.packetsReceived)
        p.add("hotline_rtp_packets_dropped_total", .counter, help: "RTP packets the socket buffer refused.", value: rtp.packetsDropped)
        p.add("hotline_rtp_invalid_packets_total", .counter, help: "Received datagrams that were not RTP.", value: rtp.invalidPacketsReceived)
        p.add("hotline_srtp_rejected_packets_total", .counter, help: "SRTP packets refused: failed authentication, replayed or not SRTP.", value: rtp.srtpRejected)
        p.add("hotline_dtmf_digits_total", .counter, help: "Keys received, by transport.", labels: [("via", "rfc4733")], value: rtp.digitsReceived)
        p.add("hotline_dtmf_digits_total", .counter, help: "Keys received, by transport.", labels: [("via", "sip_info")], value: metrics.infoDigits)
        p.add("hotline_rtp_sessions", .gauge, help: "Open RTP sockets.", value: rtpSessions)
        p.add("hotline_rtp_ports_free", .gauge, help: "RTP ports left in the pool.", value: rtpPortsFree)
        for reason in AdmissionControl.Reason.allCases {
            p.add("hotline_admission_rejections_total", .counter, help: "New calls refused with 503, by reason.",
                  labels: [("reason", reason.rawValue)], value: rejections[reason] ?? 0)
        }
        p.add("hotline_event_loop_lag_seconds", .gauge, help: "How late the call loops' 10 ms tick runs (smoothed, worst loop).",
              value: Double(loopLag.nanosecondsClamped) / 1e9)
        p.add("hotline_overload_shedding", .gauge, help: "1 while new calls are refused because a call loop is late.",
              value: shedding ? 1 : 0)
        p.add("hotline_ticket_writes_total", .counter, help: "Ticket writes by outcome.", labels: [("outcome", "committed")], value: tickets.writesCommitted)
        p.add("hotline_ticket_writes_total", .counter, help: "Ticket writes by outcome.", labels: [("outcome", "failed")], value: tickets.writesFailed)
        p.add("hotline_ticket_commits_total", .counter, help: "Group commits (transactions) of the ticket writer.", value: tickets.commits)
        p.add("hotline_ticket_writes_pending", .gauge, help: "Ticket writes queued, not yet committed.", value: tickets.pendingWrites)
        p.add("hotline_ticket_commit_writes_max", .gauge, help: "Most writes in one commit so far.", value: tickets.maxCommitWrites)
        p.add("hotline_work_orders_opened_total", .counter, help: "Work orders opened from calls and the desk.", value: tickets.workOrdersOpened)
        p.add("hotline_repeat_calls_linked_total", .counter, help: "Calls linked to an open work order of the same matter.", value: tickets.repeatCallsLinked)
        p.add("hotline_work_order_intake_failures_total", .counter, help: "Calls kept without their work order.", value: tickets.intakeFailures)
        p.add("hotline_ticket_errors_total", .counter, help: "Ticket writes the call path saw fail.", value: metrics.ticketErrors)
        p.add("hotline_sip_unsent_total", .counter, help: "SIP messages for a TLS peer whose connection is gone (we open no TLS connections).",
              value: metrics.unsentOnStreams)
        p.add("hotline_agent_legs_total", .counter, help: "INVITEs to agents' phones, and those answered.", labels: [("outcome", "invited")],
              value: metrics.agentInvites)
        p.add("hotline_agent_legs_total", .counter, help: "INVITEs to agents' phones, and those answered.", labels: [("outcome", "answered")],
              value: metrics.agentAnswers)
        p.add("hotline_outbound_calls_total", .counter, help: "Calls the server placed: INVITEs sent, answered, not answered.",
              labels: [("outcome", "invited")], value: metrics.outboundInvites)
        p.add("hotline_outbound_calls_total", .counter, help: "Calls the server placed: INVITEs sent, answered, not answered.",
              labels: [("outcome", "answered")], value: metrics.outboundAnswered)
        p.add("hotline_outbound_calls_total", .counter, help: "Calls the server placed: INVITEs sent, answered, not answered.",
              labels: [("outcome", "failed")], value: metrics.outboundFailed)
        p.add("hotline_agent_legs_up", .gauge, help: "Agent legs bridged to a caller now.", value: agentLegsUp)
        p.add("hotline_agent_rtp_packets_total", .counter, help: "RTP packets on agent legs, by direction.", labels: [("direction", "in")],
              value: metrics.agentRTPReceived)
        p.add("hotline_agent_rtp_packets_total", .counter, help: "RTP packets on agent legs, by direction.", labels: [("direction", "out")],
              value: metrics.agentRTPSent)
        p.add("hotline_timers_pending", .gauge, help: "Timers scheduled and not cancelled (call engines and SIP endpoints of every loop).",
              value: timersPending)
        p.add("hotline_timers_stored", .gauge, help: "Timer heap entries, cancelled ones not yet removed included.", value: timersStored)
        contactCentre?.prometheus(into: &p)
    }
}
