// RTP: placeholder until the target lands.
enum _RTPPlaceholder {}
