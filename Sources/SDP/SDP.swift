// SDP: placeholder until the target lands.
enum _SDPPlaceholder {}
