import Cluster
import Testing
import Timers

private func at(_ seconds: Double) -> Instant { Instant(nanoseconds: UInt64(seconds * 1e9)) }

/// The operation id of the single try or check in `actions`.
private func operation(_ actions: [LeaderElection.Action]) -> LeaderElection.Operation? {
    for action in actions {
        switch action {
        case .tryAcquire(let id), .check(let id): return id
        default: continue
        }
    }
    return nil
}

@Suite struct LeaderElectionTests {
    @Test func aFollowerTriesAtOnceThenEveryRetryInterval() throws {
        var election = LeaderElection()
        let first = try #require(operation(election.tick(now: at(0))))
        #expect(election.tick(now: at(0.1)).isEmpty, "one operation at a time")
        #expect(election.refused(first, now: at(0.1)).isEmpty)
        #expect(election.tick(now: at(0.5)).isEmpty, "waits the retry interval")
        #expect(operation(election.tick(now: at(1.1))) != nil)
        #expect(election.role == .follower)
    }

    @Test func acquiringMakesALeaderThatChecksAndStaysWhileConfirmed() throws {
        var election = LeaderElection()
        let attempt = try #require(operation(election.tick(now: at(0))))
        #expect(election.acquired(attempt, epoch: 7, now: at(0.01)) == [.becomeLeader(epoch: 7)])
        #expect(election.isLeader)
        #expect(election.tick(now: at(0.2)).isEmpty, "next check after the check interval")
        for step in 1...10 {
            let now = at(0.01 + Double(step) * 0.6)
            let check = try #require(operation(election.tick(now: now)), "a check at \(now)")
            #expect(election.confirmed(check, now: now + .milliseconds(5)).isEmpty)
        }
        #expect(election.role == .leader(epoch: 7))
    }

    @Test func aLeaderWhoseChecksHangStepsDownOnItsOwnAfterStepDownAfter() throws {
        var election = LeaderElection()
        let attempt = try #require(operation(election.tick(now: at(0))))
        _ = election.acquired(attempt, epoch: 1, now: at(0))
        let hung = try #require(operation(election.tick(now: at(0.5))))
        #expect(election.tick(now: at(1.9)).isEmpty, "still within stepDownAfter")
        #expect(election.tick(now: at(2.0)) == [.stepDown(.unconfirmed), .dropSession])
        #expect(election.role == .follower)
        // The hung check's late answer does not make it leader again.
        #expect(election.confirmed(hung, now: at(2.1)).isEmpty)
        #expect(election.role == .follower)
        #expect(election.failed(hung, now: at(2.1)).isEmpty, "a stale failure is ignored too")
        // It competes again after the retry interval.
        #expect(election.tick(now: at(2.5)).isEmpty)
        #expect(operation(election.tick(now: at(3.0))) != nil)
    }

    @Test func aFailedCheckStepsDownAtOnce() throws {
        var election = LeaderElection()
        let attempt = try #require(operation(election.tick(now: at(0))))
        _ = election.acquired(attempt, epoch: 1, now: at(0))
        let check = try #require(operation(election.tick(now: at(0.5))))
        #expect(election.failed(check, now: at(0.6)) == [.stepDown(.sessionFailed), .dropSession])
        #expect(!election.isLeader)
    }

    @Test func aFailedTryDropsTheSessionAndRetriesLater() throws {
        var election = LeaderElection()
        let attempt = try #require(operation(election.tick(now: at(0))))
        #expect(election.failed(attempt, now: at(0.1)) == [.dropSession])
        #expect(election.tick(now: at(0.5)).isEmpty)
        #expect(operation(election.tick(now: at(1.2))) != nil)
    }

    @Test func aStaleAcquisitionIsGivenBack() throws {
        var election = LeaderElection()
        let attempt = try #require(operation(election.tick(now: at(0))))
        _ = election.resign(now: at(0.05))
        // The try was answered after the node resigned: the lock it took must be freed.
        #expect(election.acquired(attempt, epoch: 3, now: at(0.1)) == [.dropSession])
        #expect(election.role == .resigned)
        #expect(election.tick(now: at(5)).isEmpty, "a resigned node never tries again")
    }

    @Test func aResigningLeaderStepsDownAndFreesTheLock() throws {
        var election = LeaderElection()
        let attempt = try #require(operation(election.tick(now: at(0))))
        _ = election.acquired(attempt, epoch: 2, now: at(0))
        #expect(election.resign(now: at(1)) == [.stepDown(.resigned), .dropSession])
        #expect(election.role == .resigned)
        #expect(election.resign(now: at(2)).isEmpty)
    }

    @Test func twoNodesSharingOneLockNeverLeadAtOnce() throws {
        // A lock simulated as the store keeps it: one holder; the holder's session can vanish
        // (its node is cut off); the store frees a vanished session's lock after `freedAfter`.
        struct Lock {
            var holder: Int?
            var vanishedAt: Double?
            var epoch: Int64 = 0
        }
        let freedAfter = 3.0 // PostgreSQL's keepalive timeout, above stepDownAfter (2 s)
        var lock = Lock()
        var nodes = [LeaderElection(), LeaderElection()]
        var cutOff = [false, false]
        var leaderSince: [Double?] = [nil, nil]
        var takeover: Double?
        for tenth in 0...150 {
            let t = Double(tenth) / 10
            if t == 5 { cutOff[0] = true } // whoever leads (node 0 tries first), cut off at 5 s
            if let vanished = lock.vanishedAt, t - vanished >= freedAfter {
                lock.holder = nil
                lock.vanishedAt = nil
            }
            for index in nodes.indices {
                var pending = nodes[index].tick(now: at(t))
                while !pending.isEmpty {
                    let action = pending.removeFirst()
                    switch action {
                    case .tryAcquire(let id):
                        if cutOff[index] {
                            pending += nodes[index].failed(id, now: at(t))
                        } else if lock.holder == nil {
                            lock.holder = index
                            lock.epoch += 1
                            pending += nodes[index].acquired(id, epoch: lock.epoch, now: at(t))
                        } else {
                            pending += nodes[index].refused(id, now: at(t))
                        }
                    case .check(let id):
                        if cutOff[index] {
                            if lock.holder == index, lock.vanishedAt == nil { lock.vanishedAt = t }
                            // The check hangs: no answer.
                        } else {
                            pending += lock.holder == index ? nodes[index].confirmed(id, now: at(t)) : nodes[index].failed(id, now: at(t))
                        }
                    case .becomeLeader:
                        leaderSince[index] = t
                        if index == 1 { takeover = t }
                    case .stepDown:
                        leaderSince[index] = nil
                    case .dropSession:
                        if lock.holder == index, !cutOff[index] { lock.holder = nil }
                    }
                }
            }
            #expect(leaderSince.compactMap { $0 }.count <= 1, "two leaders at \(t) s")
        }
        let newLeader = try #require(takeover, "node 1 took over")
        #expect(newLeader - 5 <= 5, "taken over within 5 s of the cut: \(newLeader - 5) s")
        #expect(nodes[1].role == .leader(epoch: 2), "a newer epoch")
    }
}
