// Dialplan: placeholder until the target lands.
enum _DialplanPlaceholder {}
