import Codecs
import Foundation
import NIOCore
import NIOPosix
import Randomness
import RTP
import SDP
import SIPCore
import SIPEndpoint
import SIPTransaction
import Timers

/// The calls of one event loop: starts its share of the schedule, runs every call's machine
/// and timers on one 5 ms tick, sends RTP on a 20 ms tick for all calls at once, and keeps the
/// loop's statistics. Nothing here locks; other threads only read ``FloodProgress``.
final class FloodWorker {
    static let tickInterval = TimeAmount.milliseconds(5)
    static let rtpInterval = TimeAmount.milliseconds(20)
    static func monotonicNow() -> Instant { Instant(nanoseconds: NIODeadline.now().uptimeNanoseconds) }

    let eventLoop: EventLoop
    let index: Int
    let workerCount: Int
    let configuration: FloodConfiguration
    let runID: String
    let payloads: CallerPayloads
    let progress: FloodProgress
    let target: SocketAddress
    let requestURI: SIPURI
    let maxActive: Int
    var sources: [FloodSource] = []
    var calls: [UInt64: FloodCall] = [:]
    var callsByID: [String: FloodCall] = [:]
    var sending: [FloodCall] = []
    var timers = TimerQueue<(UInt64, UACTimer)>()
    var statistics: FloodStatistics
    var scratch = PromptScratch()
    var rng: SplitMix64
    var picker: WeightedRoundRobin
    let negotiator = SDPNegotiator(originUsername: "flood", sessionName: "hotline flood")

    var start = NIODeadline.now()
    var nextCall: Int
    var localCalls = 0
    var scheduleDone = false
    var drainDeadline: NIODeadline?
    var forceDeadline: NIODeadline?
    var finished = false
    var tickTask: Scheduled<Void>?
    var nextTick = NIODeadline.now()
    var nextRTPTick = NIODeadline.now()
    var rtpTicks: UInt64 = 0
    var completion: EventLoopPromise<FloodStatistics>

    init(eventLoop: EventLoop, index: Int, workerCount: Int, configuration: FloodConfiguration, runID: String,
         payloads: CallerPayloads, progress: FloodProgress) throws {
        self.eventLoop = eventLoop
        self.index = index
        self.workerCount = workerCount
        self.configuration = configuration
        self.runID = runID
        self.payloads = payloads
        self.progress = progress
        target = try SocketAddress(ipAddress: configuration.targetHost, port: configuration.targetPort)
        requestURI = SIPURI(user: configuration.number, host: configuration.targetHost, port: configuration.targetPort)
        maxActive = configuration.maxConcurrent.map { max(1, ($0 + workerCount - 1 - index) / workerCount) } ?? .max
        statistics = FloodStatistics(keepCallIDs: configuration.verifyDatabase != nil)
        rng = SplitMix64(seed: configuration.seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        picker = WeightedRoundRobin(weights: configuration.scenario.entries.map(\.weight))
        nextCall = index
        completion = eventLoop.makePromise()
    }

    // MARK: life cycle

    /// Binds this loop's sockets: the source addresses `index, index + workerCount, ...`, or
    /// one of them when there are fewer addresses than loops.
    func bind() -> EventLoopFuture<Void> {
        let all = configuration.sources.addresses
        var mine = stride(from: index, to: all.count, by: workerCount).map { all[$0] }
        if mine.isEmpty { mine = [all[index % all.count]] }
        sources = mine.map { FloodSource(address: $0, worker: self) }
        return EventLoopFuture.andAllSucceed(sources.map { $0.bind() }, on: eventLoop)
    }

    /// Starts the schedule at `start` (shared by every loop).
    func run(startingAt start: NIODeadline) -> EventLoopFuture<FloodStatistics> {
        self.start = start
        nextTick = start
        nextRTPTick = start
        scheduleTick()
        return completion.futureResult
    }

    /// Stop starting calls and wind down those in progress now (Ctrl-C).
    func stop() {
        scheduleDone = true
        let now = NIODeadline.now()
        drainDeadline = now
        forceDeadline = now + .seconds(2)
    }

    private func scheduleTick() {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        tickTask = eventLoop.scheduleTask(deadline: nextTick) {
            bound.value.tick()
        }
    }

    private func tick() {
        tickTask = nil
        guard !finished else { return }
        let now = NIODeadline.now()
        let instant = Instant(nanoseconds: now.uptimeNanoseconds)
        if configuration.batchedRTPReads { for source in sources { source.pollRTP() } }
        for source in sources { source.endpoint.processTimers(now: instant) }
        while let (_, (number, timer)) = timers.popExpired(now: instant) {
            guard let call = calls[number], call.timerIDs.removeValue(forKey: timer) != nil else { continue }
            drive(call, .timerFired(timer, now: instant))
        }
        startDueCalls(now: now)
        var rtpRounds = 0
        while now >= nextRTPTick, rtpRounds < 3 {
            rtpTicks += 1
            rtpRounds += 1
            sendRTP(tick: rtpTicks)
            nextRTPTick = nextRTPTick + FloodWorker.rtpInterval
        }
        if now - nextRTPTick > FloodWorker.rtpInterval * 3 { nextRTPTick = now } // far behind: no burst
        checkDrain(now: now)
        for source in sources { source.flush() }
        guard !finished else { return }
        nextTick = nextTick + FloodWorker.tickInterval
        if nextTick < now { nextTick = now }
        scheduleTick()
    }

    private func checkDrain(now: NIODeadline) {
        guard scheduleDone else { return }
        if calls.isEmpty { return finish() }
        if drainDeadline == nil {
            drainDeadline = now + .nanoseconds(Int64(configuration.effectiveDrainTimeout.nanosecondsUInt64))
        }
        if let deadline = drainDeadline, now >= deadline {
            drainDeadline = .distantFuture
            forceDeadline = now + .seconds(2)
            let instant = Instant(nanoseconds: now.uptimeNanoseconds)
            for call in calls.values.sorted(by: { $0.number < $1.number }) { drive(call, .abort(now: instant)) }
        }
        if let force = forceDeadline, now >= force {
            // Whatever still waits for a response (a BYE to a dead server) ends here.
            let instant = Instant(nanoseconds: now.uptimeNanoseconds)
            for call in calls.values.sorted(by: { $0.number < $1.number }) {
                var outcome = call.machine.outcome
                if outcome.failure == nil { outcome.failure = .unfinished }
                outcome.endedAt = instant
                complete(call, outcome)
            }
            finish()
        }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        tickTask?.cancel()
        let closes = sources.map { $0.close() }
        let statistics = self.statistics
        let promise = completion
        EventLoopFuture.andAllComplete(closes, on: eventLoop).whenComplete { _ in promise.succeed(statistics) }
    }

    // MARK: starting calls

    private func startDueCalls(now: NIODeadline) {
        var startedThisTick = 0
        while !scheduleDone {
            if let limit = configuration.calls, nextCall >= limit { scheduleDone = true; break }
            guard let offset = configuration.schedule.startTime(ofCall: nextCall) else { scheduleDone = true; break }
            if let duration = configuration.duration, offset >= duration.secondsDouble { scheduleDone = true; break }
            guard start + .nanoseconds(Int64(offset * 1e9)) <= now else { break }
            guard calls.count < maxActive, startedThisTick < 1000 else { break }
            startCall(global: nextCall, now: now)
            nextCall += workerCount
            startedThisTick += 1
        }
    }

    private func startCall(global n: Int, now: NIODeadline) {
        let source = sources[localCalls % sources.count]
        localCalls += 1
        let entry = configuration.scenario.entries[picker.next()]
        let number = UInt64(n)
        let tag = runID + String(n, radix: 36)
        let offer = negotiator.offer(localAddress: source.address, localPort: UInt16(source.rtpPort), sessionID: number + 1, sessionVersion: 1)
        let config = UACStateMachine.Configuration(
            requestURI: requestURI, localHost: source.address, localPort: source.sipPort,
            callerUser: "1390" + String(format: "%07d", n % 10_000_000),
            callID: "\(runID)-\(n)", localTag: tag, offer: offer, behaviour: entry.behaviour,
            holdTime: entry.behaviour.hold.sample(using: &rng), maxCallDuration: configuration.maxCallDuration)
        let call = FloodCall(number: number, source: source, machine: UACStateMachine(configuration: config))
        calls[number] = call
        callsByID[call.callID] = call
        statistics.started += 1
        statistics.peakActive = max(statistics.peakActive, calls.count)
        progress.startedCount.add(1, ordering: .relaxed)
        drive(call, .start(now: Instant(nanoseconds: now.uptimeNanoseconds)))
    }

    // MARK: driving a call

    func drive(_ call: FloodCall, _ event: UACStateMachine.Event) {
        let actions = call.machine.event(event)
        for action in actions { perform(action, for: call) }
    }

    private func perform(_ action: UACStateMachine.Action, for call: FloodCall) {
        let number = call.number
        switch action {
        case .sendInvite(let request):
            call.source.endpoint.send(request: request, to: target) { [unowned self] event in
                guard let call = self.calls[number] else { return }
                let now = FloodWorker.monotonicNow()
                switch event {
                case .response(let response): self.drive(call, .inviteResponse(response, now: now))
                case .timeout: self.drive(call, .inviteTimedOut(now: now))
                }
            }
        case .sendRequest(let request):
            let method = request.method
            if method == .info { call.keysSent.append(FloodWorker.monotonicNow().nanoseconds) }
            call.source.endpoint.send(request: request, to: destination(of: call)) { [unowned self] event in
                guard let call = self.calls[number] else { return }
                let now = FloodWorker.monotonicNow()
                switch event {
                case .response(let response): self.drive(call, .response(response, method: method, now: now))
                case .timeout: self.drive(call, .requestTimedOut(method, now: now))
                }
            }
        case .sendACK(let ack):
            call.source.endpoint.send(.request(ack), to: destination(of: call))
        case .respond(let response, let key):
            call.source.endpoint.respond(response, to: key)
        case .startMedia(let negotiated):
            call.startMedia(negotiated, references: configuration.prompts, rng: &rng)
            if let port = call.remoteRTPPort {
                call.source.rtpCalls[port] = call
                for (arrival, buffer) in call.source.claimStash(port: port) { deliverRTP(buffer, arrival: arrival, to: call) }
            }
            if call.sender?.isActive == true { startSending(call) }
            progress.answeredCount.add(1, ordering: .relaxed)
            configuration.eventSink?("answered: \(negotiated.codec.encodingName)/\(negotiated.codec.clockRate), RTP to \(negotiated.remoteAddress):\(negotiated.remotePort)")
        case .sendDigit(let key, let mode):
            call.sender?.send(key, mode: mode)
            startSending(call)
        case .startTimer(let timer, let duration):
            if let old = call.timerIDs[timer] { timers.cancel(old) }
            call.timerIDs[timer] = timers.schedule(at: FloodWorker.monotonicNow() + duration, (number, timer))
        case .cancelTimer(let timer):
            if let id = call.timerIDs.removeValue(forKey: timer) { timers.cancel(id) }
        case .stopMedia:
            stopMedia(call)
        case .finished(let outcome):
            complete(call, outcome)
        }
    }

    /// In-dialog requests go to the route set's first hop or the remote target when it is a
    /// numeric address on loopback; anything else goes to the target (never off loopback).
    private func destination(of call: FloodCall) -> SocketAddress {
        guard let hop = call.machine.dialog?.nextHop, let ip = SourceAddresses.parseIPv4(hop.host), ip >> 24 == 127,
              let address = try? SocketAddress(ipAddress: hop.host, port: hop.port ?? 5060) else { return target }
        return address
    }

    private func stopMedia(_ call: FloodCall) {
        stopSending(call)
        if let port = call.remoteRTPPort, call.source.rtpCalls[port] === call {
            call.source.rtpCalls[port] = nil
            call.source.portEnded(port, at: NIODeadline.now().uptimeNanoseconds)
        }
    }

    private func complete(_ call: FloodCall, _ outcome: CallOutcome) {
        guard calls.removeValue(forKey: call.number) != nil else { return }
        callsByID[call.callID] = nil
        stopMedia(call)
        for id in call.timerIDs.values { timers.cancel(id) }
        call.timerIDs = [:]
        let record = call.record(outcome: outcome)
        statistics.record(record)
        progress.finishedCount.add(1, ordering: .relaxed)
        if record.failure != nil { progress.failedCount.add(1, ordering: .relaxed) }
        if let sink = configuration.eventSink {
            let failure = record.failure.map { " (failed: \($0))" } ?? ""
            sink("call ended: \(outcome.end.rawValue)\(failure); heard \(record.promptSequence)")
        }
    }

    // MARK: RTP

    private func startSending(_ call: FloodCall) {
        guard call.sendingIndex == nil, call.sender != nil, call.remoteRTP != nil else { return }
        call.sendingIndex = sending.count
        sending.append(call)
    }

    private func stopSending(_ call: FloodCall) {
        guard let i = call.sendingIndex else { return }
        let last = sending.removeLast()
        if i < sending.count {
            sending[i] = last
            last.sendingIndex = i
        }
        call.sendingIndex = nil
    }

    private func sendRTP(tick: UInt64) {
        if tick % 25 == 0 {
            let horizon = NIODeadline.now().uptimeNanoseconds &- FloodSource.stashLifetime
            for source in sources { source.expireStash(before: horizon, dropped: &statistics.strayPackets) }
        }
        guard !sending.isEmpty else { return }
        var capacity: [ObjectIdentifier: Int] = [:]
        for call in sending { capacity[ObjectIdentifier(call.source), default: 0] += 12 + 160 }
        for source in sources {
            source.tickBuffer = source.allocator.buffer(capacity: capacity[ObjectIdentifier(source)] ?? 0)
        }
        let now = NIODeadline.now().uptimeNanoseconds
        var i = 0
        while i < sending.count {
            let call = sending[i]
            guard var sender = call.sender, let remote = call.remoteRTP else { i += 1; continue }
            let packet = sender.tick(tick)
            let active = sender.isActive
            call.sender = sender
            if let packet {
                let source = call.source
                let begin = source.tickBuffer.writerIndex
                packet.header.write(to: &source.tickBuffer)
                if packet.payload == .silence, let live = configuration.audioSource?(), live.count == CallerPayloads.frameSize {
                    source.tickBuffer.writeBytes(G711.encode(live, law: call.law))
                } else {
                    _ = payloads.withBytes(packet.payload, law: call.law) { source.tickBuffer.writeBytes($0) }
                }
                let slice = source.tickBuffer.getSlice(at: begin, length: source.tickBuffer.writerIndex - begin)!
                source.sendRTP(slice, to: remote)
                call.packetsSent += 1
                if packet.startsKey { call.keysSent.append(now) }
            }
            if !active {
                stopSending(call) // swaps the last call into i
            } else {
                i += 1
            }
        }
    }

    func receivedRTP(_ buffer: ByteBuffer, from address: SocketAddress, on source: FloodSource) {
        let arrival = NIODeadline.now().uptimeNanoseconds
        guard let port = address.port else { return }
        guard let call = source.rtpCalls[port] else {
            // The server's first packets can be read before its 200 OK on a busy loop (two
            // sockets, one epoll): keep them a moment for the call the 200 will name.
            source.stash(port: port, arrival: arrival, buffer, dropped: &statistics.strayPackets)
            return
        }
        deliverRTP(buffer, arrival: arrival, to: call)
    }

    func deliverRTP(_ buffer: ByteBuffer, arrival: UInt64, to call: FloodCall) {
        guard let layout = try? RTPPacketLayout(parsing: buffer) else { return }
        let header = layout.header
        if let event = call.eventPayloadType, header.payloadType.rawValue == event { return }
        guard header.payloadType.rawValue == call.audioPayloadType else { return }
        let reception = call.receiver.received(header, samples: layout.payloadLength, arrival: arrival)
        if let gap = reception.gap { _ = statistics.gap.record(max(1, gap / 1000)) }
        guard let position = reception.position, call.tracker != nil || configuration.audioSink != nil else { return }
        buffer.withUnsafeReadableBytes { bytes in
            let payload = UnsafeRawBufferPointer(rebasing: bytes[layout.payloadOffset..<layout.payloadOffset + layout.payloadLength])
            if call.tracker != nil {
                call.tracker!.frame(position: position, payload: payload, arrival: arrival, scratch: &scratch)
                if let sink = configuration.eventSink, let heard = call.tracker?.heard, heard.count > call.announcedPrompts {
                    for prompt in heard[call.announcedPrompts...] {
                        sink("heard \(prompt.language)/\(prompt.name)\(prompt.completed ? "" : " (cut short)")")
                    }
                    call.announcedPrompts = heard.count
                }
            }
            if let audio = configuration.audioSink {
                var samples = [Int16](repeating: 0, count: payload.count)
                for i in 0..<payload.count { samples[i] = G711.decode(payload[i], law: call.law) }
                audio(samples)
            }
        }
    }

    // MARK: requests from the server

    func received(_ request: SIPRequest, transaction key: SIPTransactionKey, on source: FloodSource) {
        guard let callID = request.callID, let call = callsByID[callID] else {
            source.endpoint.respond(SIPResponse(to: request, status: .callOrTransactionDoesNotExist, toTag: runID), to: key)
            return
        }
        drive(call, .request(request, transaction: key, now: FloodWorker.monotonicNow()))
    }

    // MARK: console

    /// Presses a key on every answered call (the console has one).
    func press(_ key: DTMFKey) {
        let now = FloodWorker.monotonicNow()
        for call in calls.values { drive(call, .pressKey(key, now: now)) }
        for source in sources { source.flush() }
    }

    func hangUp() {
        scheduleDone = true
        let now = FloodWorker.monotonicNow()
        for call in calls.values { drive(call, .hangUp(now: now)) }
        for source in sources { source.flush() }
    }
}
