// Helpers for the SQLite-only tests.

import Foundation
import Tickets
import TicketsSQLite
import TicketsTestSupport

extension TemporaryDirectory {
    /// A store with the work-order tests' policy and units on a file of this directory.
    func workOrderStore(_ name: String = "hotline.sqlite", policy: WorkOrderPolicy = testPolicy,
                        units: UnitDirectory? = testUnits) throws -> SQLiteTicketStore {
        try SQLiteTicketStore(path: path(name), options: .init(durability: .normal, timeZone: shanghai, policy: policy,
                                                               units: units))
    }
}
