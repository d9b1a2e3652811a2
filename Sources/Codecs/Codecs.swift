// Codecs: placeholder until the target lands.
enum _CodecsPlaceholder {}
