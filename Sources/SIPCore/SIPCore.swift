// SIPCore: placeholder until the target lands.
enum _SIPCorePlaceholder {}
