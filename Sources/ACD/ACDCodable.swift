// ACD: the automatic call distributor as a sans-IO state machine. This file: the values that
// cross between the nodes of a cluster (events to the ACD's owner, offers and exits back to the
// node holding the call, the machine's snapshot at takeover) encode as JSON by their synthesized
// Codable conformances; identifiers encode as their raw strings.

extension AgentID: Codable {}
extension QueueName: Codable {}
extension Skill: Codable {}
extension CallID: Codable {}
extension PauseReason: Codable {}
extension SeatKind: Codable {}
extension CancelReason: Codable {}
extension OfferFailure: Codable {}
extension OverflowReason: Codable {}
extension OverflowExit: Codable {}
extension AgentRequest: Codable {}
