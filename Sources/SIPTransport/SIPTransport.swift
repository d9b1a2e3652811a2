// SIPTransport: placeholder until the target lands.
enum _SIPTransportPlaceholder {}
