// SIPEndpoint: placeholder until the target lands.
enum _SIPEndpointPlaceholder {}
