/// What the interpreter knows about the call it runs: enough to fill the built-in variables and
/// annotate, nothing about SIP.
///
/// Phone numbers are data here; keep them out of logs unless asked for.
public struct CallContext: Sendable, Equatable {
    /// The caller's number as presented (From user part), possibly empty when withheld.
    /// `${caller}` and `caller_prefix` read it.
    public var caller: String
    /// The number the caller dialled (Request-URI user part); it selected the entry.
    /// `${dialled_number}` reads it.
    public var dialledNumber: String
    /// The server's id for the call, for correlating commands with tickets and logs.
    public var callID: String
    /// The call's ticket id, when the controller knows it (`${ticket_id}`; empty until then).
    /// A controller that opens the ticket only on answering passes it later with
    /// ``DialplanExecution/assignTicketID(_:)``.
    public var ticketID: String?

    public init(caller: String, dialledNumber: String, callID: String, ticketID: String? = nil) {
        self.caller = caller
        self.dialledNumber = dialledNumber
        self.callID = callID
        self.ticketID = ticketID
    }
}
