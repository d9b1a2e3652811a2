// Media: placeholder until the target lands.
enum _MediaPlaceholder {}
