// HotlineServer: the composition root.
// This file: the 110 linkage at run time — the outbox loop that signs and POSTs pending
// hand-offs to their partner and records each attempt, and what the call loops and the
// admin routes ask of it. The rules are the store's (Tickets) and the signing is Handoffs'.
import AsyncHTTPClient
import Foundation
import Handoffs
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Tickets

/// Delivers hand-offs. The store is the outbox: a hand-off is committed pending before anything
/// is sent, so a restart, a partner outage or a lost answer only delays it. Delivery is at
/// least once (a 2xx lost on the way back is sent again); partners de-duplicate by hand-off id,
/// as ``HandoffRoutes`` does.
final class HandoffService: Sendable {
    let configuration: HandoffConfiguration
    let store: any HotlineStore
    let pool: NIOThreadPool
    let logger: Logger
    let now: @Sendable () -> Date
    private let client: HTTPClient
    private let wakeup = WakeSignal()
    private let loop = Mutex<Task<Void, Never>?>(nil)
    /// The nonces of signed requests accepted lately, per partner key.
    let replays: Mutex<HandoffReplayGuard>

    /// At most this many hand-offs are taken from the outbox per read.
    static let batch = 32
    /// The longest the loop sleeps without looking at the outbox (another node's hand-offs,
    /// rows written by hand).
    static let idlePoll: Duration = .seconds(30)

    init(configuration: HandoffConfiguration, store: any HotlineStore, pool: NIOThreadPool, logger: Logger,
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.store = store
        self.pool = pool
        self.logger = logger
        self.now = now
        client = HTTPClient(eventLoopGroupProvider: .singleton,
                            configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
        let widest = configuration.partners.map(\.clockSkew).max() ?? .seconds(300)
        replays = Mutex(HandoffReplayGuard(skew: widest))
    }

    func start() {
        loop.withLock { task in
            guard task == nil else { return }
            task = Task { [self] in await run() }
        }
    }

    /// Stops the loop (an attempt in flight is abandoned: its hand-off stays pending) and the client.
    func shutdown() async {
        let task = loop.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
        try? await client.shutdown()
    }

    /// Something was added to the outbox: look now rather than at the next due time.
    func wake() { wakeup.fire() }

    // MARK: - From the call loops

    /// A dialplan transfer to a partner's target: the call's work order gets an outbound
    /// hand-off (opened if need be), stored before it is sent. Whatever the REFER's outcome:
    /// the hand-off is a data exchange, and a caller who fails to reach 110 needs it most.
    /// Never delays the transfer: the write completes on the store's thread.
    func handOff(call: TicketID, caller: String, businessLine: String?, category: String?, summary: [String: String],
                 partner: HandoffPartner, at: Date) {
        let request = OutboundHandoff(id: UUID().uuidString.lowercased(), partner: partner.name,
                                      localName: configuration.localName, call: call, caller: caller,
                                      businessLine: businessLine, category: category.map(TicketCategory.init(rawValue:)),
                                      summary: summary, at: at)
        let logger = self.logger
        store.handOff(request) { [weak self] result in
            switch result {
            case .success(let order):
                logger.info("hand-off stored", metadata: ["handoff.id": "\(request.id)", "partner": "\(partner.name)",
                                                          "work_order": "\(order.id)"])
                self?.wake()
            case .failure(let error):
                logger.error("hand-off not stored", metadata: ["handoff.id": "\(request.id)", "partner": "\(partner.name)",
                                                               "call": "\(call)", "error": "\(error)"])
            }
        }
    }

    // MARK: - The outbox loop

    private func run() async {
        logger.info("hand-off outbox running", metadata: ["partners": "\(configuration.partners.map(\.name).joined(separator: ","))"])
        while !Task.isCancelled {
            let due = (try? await read { store in try store.dueHandoffs(at: self.now(), limit: Self.batch) }) ?? []
            for handoff in due where !Task.isCancelled {
                await deliver(handoff)
            }
            if due.count == Self.batch { continue }
            var wait = Self.idlePoll
            if let next = try? await read({ store in try store.nextHandoffAttempt() }) {
                let seconds = max(0, next.timeIntervalSince(now()))
                wait = min(wait, .milliseconds(Int64((seconds * 1000).rounded(.up))))
            }
            if wait > .zero { await wakeup.wait(upTo: wait) }
        }
    }

    /// One attempt: sign the stored body, POST it, record the outcome (and the next try).
    func deliver(_ handoff: Handoff) async {
        let attempt = handoff.attempts + 1
        let outcome: HandoffDelivery.Outcome
        if let partner = configuration.partner(named: handoff.partner) {
            switch await post(handoff, to: partner) {
            case .success(let reference):
                outcome = .delivered(partnerReference: reference)
            case .failure(let error):
                let failedAt = now()
                if let next = partner.retry.nextAttempt(after: attempt, failedAt: failedAt) {
                    outcome = .retry(error: error.message, nextAttemptAt: next)
                } else {
                    outcome = .failed(error: error.message)
                }
                logger.warning("hand-off not delivered", metadata: [
                    "handoff.id": "\(handoff.id)", "partner": "\(handoff.partner)", "attempt": "\(attempt)",
                    "error": "\(error.message)", "retry": "\(outcome.retries)",
                ])
            }
        } else {
            outcome = .failed(error: "the partner '\(handoff.partner)' is no longer in handoffs.yaml")
        }
        let delivery = HandoffDelivery(handoffID: handoff.id, partner: handoff.partner, outcome: outcome, at: now())
        do {
            _ = try await store.recordDelivery(delivery)
            if case .delivered = outcome {
                logger.info("hand-off delivered", metadata: ["handoff.id": "\(handoff.id)", "partner": "\(handoff.partner)",
                                                             "attempt": "\(attempt)"])
            }
        } catch {
            logger.error("hand-off attempt not recorded", metadata: ["handoff.id": "\(handoff.id)", "error": "\(error)"])
        }
    }

    struct DeliveryError: Error {
        var message: String
    }

    /// POSTs the hand-off; the partner's reference (`work_order` of a JSON answer) on 2xx.
    private func post(_ handoff: Handoff, to partner: HandoffPartner) async -> Result<String?, DeliveryError> {
        let body = Array(handoff.body.utf8)
        let path = partner.webhookURL.path.isEmpty ? "/" : partner.webhookURL.path
        let signature = HandoffSigner.sign(method: "POST", path: path, body: body, key: partner.signingKey, now: now())
        var request = HTTPClientRequest(url: partner.webhookURL.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Hotline hand-off")
        for (name, value) in signature.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let seconds = max(1, partner.timeout.components.seconds)
            let response = try await client.execute(request, timeout: .seconds(seconds))
            let answer = try await response.body.collect(upTo: 64 * 1024)
            let text = String(buffer: answer)
            guard (200..<300).contains(response.status.code) else {
                return .failure(DeliveryError(message: "HTTP \(response.status.code): \(text.prefix(200))"))
            }
            let reference = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["work_order"] as? String
            return .success(reference)
        } catch {
            return .failure(DeliveryError(message: "\(error)".prefix(300).description))
        }
    }

    /// Runs a blocking store read on the thread pool.
    func read<T: Sendable>(_ body: @escaping @Sendable (any HotlineStore) throws -> T) async throws -> T {
        let store = self.store
        return try await pool.runIfActive { try body(store) }
    }
}

extension HandoffDelivery.Outcome {
    var retries: Bool {
        if case .retry = self { return true }
        return false
    }
}

/// A wake-up for one waiting task: `fire` before `wait` is remembered, so none is lost.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when fired, after `limit`, or when the task is cancelled.
    func wait(upTo limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForFire() }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForFire() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            fire()
        }
    }
}
