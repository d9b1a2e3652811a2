// HotlineServer: the composition root.
// This file: the contact centre's security log — failed and malformed credentials, lockouts,
// address-of-record mismatches — from the registrar and the feature codes alike.
import Logging
import SIPRegistrar

/// Writes security events at warning, tagged `security.event`, without passwords or digests
/// (only what the client claimed and where it came from).
struct SecurityLog {
    let logger: Logger

    func record(_ event: SecurityEvent) {
        switch event {
        case .authenticationFailed(let username, let aor, let source, let reason):
            logger.warning("security: authentication failed", metadata: [
                "security.event": "authentication_failed", "sip.username": "\(username)", "sip.aor": "\(aor)",
                "sip.source": "\(source)", "reason": "\(reason)",
            ])
        case .lockedOut(let subject, let until):
            logger.warning("security: locked out after repeated failures", metadata: [
                "security.event": "locked_out", "subject": "\(subject)", "until": "\(SIPDate.format(until))",
            ])
        case .addressOfRecordMismatch(let username, let aor, let source):
            logger.warning("security: authenticated user tried to register another address-of-record", metadata: [
                "security.event": "aor_mismatch", "sip.username": "\(username)", "sip.aor": "\(aor)", "sip.source": "\(source)",
            ])
        case .malformedCredentials(let source, let error):
            logger.warning("security: malformed credentials", metadata: [
                "security.event": "malformed_credentials", "sip.source": "\(source)", "error": "\(error)",
            ])
        }
    }
}
