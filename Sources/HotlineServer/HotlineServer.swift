// HotlineServer: placeholder until the target lands.
enum _HotlineServerPlaceholder {}
