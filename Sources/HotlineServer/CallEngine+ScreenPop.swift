// HotlineServer: the composition root.
// This file: what the agent desk shows of a call while it rings the agent and while they talk
// (the screen pop): who is calling, what they pressed, where the menus took them. Read from the
// call itself on its loop, so the agent sees it before anything is written to the store.
import Foundation
import Tickets

/// A call as the agent desk pops it.
struct ScreenPop: Sendable, Encodable, Equatable {
    /// The call's ticket number (its work order will have the same one); nil before it is opened.
    var ticket: String?
    var caller: String
    /// The From header's display name, exactly as the caller's phone sent it (shown as text).
    var callerName: String?
    var dialled: String
    var arrivedAt: Date
    var keys: String
    var menuPath: [String]
    var businessLine: String?
    var category: String?
    var language: String
    var queue: String?
    var waitSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case ticket, caller, dialled, keys, category, language, queue
        case callerName = "caller_name"
        case arrivedAt = "arrived_at"
        case menuPath = "menu_path"
        case businessLine = "business_line"
        case waitSeconds = "wait_seconds"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ticket, forKey: .ticket)
        try c.encode(caller, forKey: .caller)
        try c.encode(callerName, forKey: .callerName)
        try c.encode(dialled, forKey: .dialled)
        // The API's timestamp whatever the encoder's date strategy (the feed's and the routes' differ).
        try c.encode(TicketTimestamp.format(arrivedAt), forKey: .arrivedAt)
        try c.encode(keys, forKey: .keys)
        try c.encode(menuPath, forKey: .menuPath)
        try c.encode(businessLine, forKey: .businessLine)
        try c.encode(category, forKey: .category)
        try c.encode(language, forKey: .language)
        try c.encode(queue, forKey: .queue)
        try c.encode(waitSeconds, forKey: .waitSeconds)
    }

    /// The pop of a call already in the store (after it ended), for a call the agent reopens.
    init(_ ticket: CallTicket) {
        self.ticket = ticket.id.rawValue
        caller = ticket.caller
        callerName = nil
        dialled = ticket.dialled
        arrivedAt = ticket.arrivedAt
        keys = ticket.keys
        menuPath = ticket.menuPath
        businessLine = ticket.businessLine
        category = ticket.category?.rawValue
        language = ""
        queue = ticket.queue?.queue
        waitSeconds = ticket.queue?.waitMilliseconds.map { Double($0) / 1000 }
    }

    init(ticket: String?, caller: String, callerName: String?, dialled: String, arrivedAt: Date, keys: String,
         menuPath: [String], businessLine: String?, category: String?, language: String, queue: String?, waitSeconds: Double?) {
        self.ticket = ticket
        self.caller = caller
        self.callerName = callerName
        self.dialled = dialled
        self.arrivedAt = arrivedAt
        self.keys = keys
        self.menuPath = menuPath
        self.businessLine = businessLine
        self.category = category
        self.language = language
        self.queue = queue
        self.waitSeconds = waitSeconds
    }
}

extension CallEngine {
    /// The pop of call `number` of this loop, if it is still here.
    func screenPop(call number: UInt64) -> ScreenPop? {
        guard let call = callsByID[number] else { return nil }
        let execution = call.execution
        let name = call.invite.from?.displayName.map { name in
            name.count >= 2 && name.first == "\"" && name.last == "\"" ? String(name.dropFirst().dropLast()) : name
        }
        return ScreenPop(ticket: call.ticketID?.rawValue, caller: call.caller, callerName: name?.isEmpty == false ? name : nil,
                         dialled: call.dialled, arrivedAt: call.arrivedAt, keys: execution.keysPressed,
                         menuPath: execution.menuPath, businessLine: execution.ticket.businessLine ?? call.businessLine,
                         category: execution.ticket.category ?? call.category, language: execution.language.rawValue,
                         queue: call.queue?.queue, waitSeconds: call.queue?.waited.map(ContactCentreRoutes.seconds))
    }
}
