// Tickets: calls, and the 12345 work orders they open, behind intention-named APIs.
// This file: what is wrong with an admin-edited config file (units.yaml, sla.yaml), located
// like a compiler diagnostic (ConfigFiles' types, under the names the tickets' callers know).
import ConfigFiles

/// One problem in a Tickets config file: `file:line:column: error: message [key.path] (hint)`.
public typealias TicketsConfigIssue = ConfigIssue

/// A config file that could not be loaded: every issue found, not just the first.
public typealias TicketsConfigError = ConfigError
