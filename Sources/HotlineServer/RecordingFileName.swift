// HotlineServer: the composition root.
// This file: what a recording's file is called.
import Foundation
import Tickets

extension Call {
    /// The file name of a recording of this call: `<ticket id>-<suffix>.wav`, or, for a call
    /// without a ticket, `call-<arrival, Unix seconds>-<loop>.<call number>-<suffix>.wav`.
    /// Only identifiers the server made go in: the Call-ID is the caller's to choose, and one
    /// such as `../../etc/x` would otherwise choose the directory the file is written to.
    ///
    /// - Parameters:
    ///   - loop: The call loop (engine shard) the call lives on; call numbers are per loop.
    ///   - suffix: `queue`, or the dialplan's recording number.
    func recordingFileName(loop: Int, suffix: String) -> String {
        let stem = ticketID?.rawValue ?? "call-\(Int64(arrivedAt.timeIntervalSince1970))-\(loop).\(id)"
        return "\(stem)-\(suffix).wav"
    }
}
