// Outbound: the calls the server places. This file: one citizen to call, what has been tried,
// and a campaign grouping such calls.

import Foundation

/// One citizen to call for one purpose (a return visit, a callback, a car owner's notice),
/// over as many attempts as the retry rules allow.
public struct OutboundJob: Sendable, Hashable, Identifiable {
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// Waiting for `notBefore`, the allowed hours and the pace.
        case scheduled
        /// An attempt is being placed or is in progress.
        case dialing
        /// Answered and the flow gave its result (or the flow needed none).
        case completed
        /// No more attempts: refused for good, or every attempt failed.
        case failed
        /// Withdrawn (the work order was closed meanwhile, an admin cancelled it).
        case cancelled

        public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
    }

    public var id: String
    /// The campaign the job belongs to (`return_visit` for the automatic return visits).
    public var campaign: String
    /// The dialplan's `outbound:` entry run on the answered call.
    public var flow: String
    /// The citizen's number, as dialled through the trunk.
    public var number: String
    /// The work order the call is about, if any; each attempt's ticket is linked to it.
    public var workOrder: String?
    /// The trunk to use (nil: the default one).
    public var trunk: String?
    /// Values for the flow (`${plate}`...), set before the call.
    public var variables: [String: String]
    public var state: State
    public var attempts: Int
    public var maxAttempts: Int
    /// No attempt before this instant.
    public var notBefore: Date
    public var lastOutcome: OutboundOutcome?
    /// What the flow reported on the answered call (a survey's score), once completed.
    public var result: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, campaign: String, flow: String, number: String, workOrder: String? = nil, trunk: String? = nil,
                variables: [String: String] = [:], maxAttempts: Int = 3, notBefore: Date, createdAt: Date) {
        self.id = id
        self.campaign = campaign
        self.flow = flow
        self.number = number
        self.workOrder = workOrder
        self.trunk = trunk
        self.variables = variables
        self.state = .scheduled
        self.attempts = 0
        self.maxAttempts = maxAttempts
        self.notBefore = notBefore
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}

/// Calls placed together for one purpose, paced and paused together.
public struct OutboundCampaign: Sendable, Hashable, Identifiable {
    public var id: String
    /// The flow its calls run (a dialplan `outbound:` entry).
    public var flow: String
    public var trunk: String?
    public var paused: Bool
    /// This campaign's own pace, within the global one and the trunk's.
    public var callsPerSecond: Double?
    public var maxConcurrent: Int?
    public var maxAttempts: Int
    public var createdAt: Date

    public init(id: String, flow: String, trunk: String? = nil, paused: Bool = false, callsPerSecond: Double? = nil,
                maxConcurrent: Int? = nil, maxAttempts: Int = 3, createdAt: Date) {
        self.id = id
        self.flow = flow
        self.trunk = trunk
        self.paused = paused
        self.callsPerSecond = callsPerSecond
        self.maxConcurrent = maxConcurrent
        self.maxAttempts = maxAttempts
        self.createdAt = createdAt
    }
}

/// How far a campaign has come: jobs by state, attempts by outcome.
public struct OutboundProgress: Sendable, Hashable, Codable {
    public var jobs: Int = 0
    public var byState: [String: Int] = [:]
    public var attempts: Int = 0
    public var lastOutcomes: [String: Int] = [:]
    public init() {}
}
