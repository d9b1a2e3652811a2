/// What the interpreter knows about the call it runs: enough to annotate, nothing about SIP.
///
/// Phone numbers are data here; keep them out of logs unless asked for.
public struct CallContext: Sendable, Equatable {
    /// The caller's number as presented (From user part), possibly empty when withheld.
    public var caller: String
    /// The number the caller dialled (Request-URI user part); it selected the entry.
    public var dialledNumber: String
    /// The server's id for the call, for correlating commands with tickets and logs.
    public var callID: String

    public init(caller: String, dialledNumber: String, callID: String) {
        self.caller = caller
        self.dialledNumber = dialledNumber
        self.callID = callID
    }
}
