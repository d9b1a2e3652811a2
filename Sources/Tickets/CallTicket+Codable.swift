// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: the JSON form of a ticket, as `hotline tickets list --json` prints it.

import Foundation

extension CallTicket: Codable {
    /// The JSON keys, the same snake_case names as the database columns.
    enum CodingKeys: String, CodingKey {
        case id, caller, dialled, keys, category, disposition
        case callID = "call_id"
        case arrivedAt = "arrived_at"
        case answeredAt = "answered_at"
        case endedAt = "ended_at"
        case menuPath = "menu_path"
        case businessLine = "business_line"
        case sipStatus = "sip_status"
        case dialplanVersion = "dialplan_version"
        // The agent queues (migration v3); null / false for calls that never queued.
        case queue, agent, abandoned, overflowed, callback
        case enqueuedAt = "enqueued_at"
        case agentAnsweredAt = "agent_answered_at"
        case waitMilliseconds = "wait_ms"
        case talkMilliseconds = "talk_ms"
    }

    /// Encodes every key, writing `null` for absent values (`false` for the queue flags of a
    /// call that never queued), so each object has the same shape and `jq '.[] | .category'`
    /// never meets a missing key. Dates are ticket timestamps (`2026-11-29T07:05:03.042Z`)
    /// whatever the encoder's date strategy. The keys are spelled once, in ``CallTicketJSON``,
    /// which a work order's detail embeds too.
    public func encode(to encoder: any Encoder) throws {
        try CallTicketJSON(self).json.encode(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func date(_ key: CodingKeys) throws -> Date? {
            guard let text = try container.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let date = TicketTimestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "expected YYYY-MM-DDTHH:MM:SS.mmmZ, got '\(text)'")
            }
            return date
        }
        guard let arrivedAt = try date(.arrivedAt) else {
            throw DecodingError.valueNotFound(
                String.self, .init(codingPath: container.codingPath + [CodingKeys.arrivedAt],
                                   debugDescription: "arrived_at is required"))
        }
        var queue: QueueOutcome?
        if let name = try container.decodeIfPresent(String.self, forKey: .queue) {
            guard let enqueuedAt = try date(.enqueuedAt) else {
                throw DecodingError.valueNotFound(
                    String.self, .init(codingPath: container.codingPath + [CodingKeys.enqueuedAt],
                                       debugDescription: "enqueued_at is required with queue"))
            }
            queue = QueueOutcome(
                queue: name, agent: try container.decodeIfPresent(String.self, forKey: .agent), enqueuedAt: enqueuedAt,
                agentAnsweredAt: try date(.agentAnsweredAt),
                waitMilliseconds: try container.decodeIfPresent(Int.self, forKey: .waitMilliseconds),
                talkMilliseconds: try container.decodeIfPresent(Int.self, forKey: .talkMilliseconds),
                abandoned: try container.decodeIfPresent(Bool.self, forKey: .abandoned) ?? false,
                overflowed: try container.decodeIfPresent(Bool.self, forKey: .overflowed) ?? false,
                callback: try container.decodeIfPresent(Bool.self, forKey: .callback) ?? false)
        }
        self.init(
            id: try container.decode(TicketID.self, forKey: .id),
            callID: try container.decode(String.self, forKey: .callID),
            caller: try container.decode(String.self, forKey: .caller),
            dialled: try container.decode(String.self, forKey: .dialled),
            arrivedAt: arrivedAt,
            answeredAt: try date(.answeredAt),
            endedAt: try date(.endedAt),
            keys: try container.decodeIfPresent(String.self, forKey: .keys) ?? "",
            menuPath: try container.decodeIfPresent([String].self, forKey: .menuPath) ?? [],
            businessLine: try container.decodeIfPresent(String.self, forKey: .businessLine),
            category: try container.decodeIfPresent(TicketCategory.self, forKey: .category),
            disposition: try container.decodeIfPresent(CallDisposition.self, forKey: .disposition),
            sipStatus: try container.decodeIfPresent(Int.self, forKey: .sipStatus),
            dialplanVersion: try container.decode(String.self, forKey: .dialplanVersion),
            queue: queue)
    }

    /// The encoder for `[CallTicket]` on the command line: pretty, keys sorted (so the output
    /// is byte-for-byte stable across runs and platforms) and slashes unescaped.
    /// A new encoder each time, because `JSONEncoder` is a mutable class.
    public static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A decoder that reads what ``jsonEncoder`` writes.
    public static var jsonDecoder: JSONDecoder { JSONDecoder() }
}
