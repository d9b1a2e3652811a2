// SIPTransaction: placeholder until the target lands.
enum _SIPTransactionPlaceholder {}
