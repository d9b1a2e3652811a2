// ACDConfig: reads the admin-edited `agents.yaml` and `queues.yaml` into the ACD's
// configuration and the registrar's credentials, reporting every problem with file:line:column.
// The only target of the contact centre that touches YAML (Yams); the ACD itself stays pure.
//
// This file: what is wrong with a file, located like a compiler diagnostic (ConfigFiles' types,
// under the names the ACD's callers know).
import ConfigFiles

/// One problem in agents.yaml or queues.yaml: `file:line:column: error: message [key.path] (hint)`.
public typealias ACDConfigIssue = ConfigIssue

/// Files that could not be loaded: every issue found (errors and warnings), in file order.
public typealias ACDConfigError = ConfigError
