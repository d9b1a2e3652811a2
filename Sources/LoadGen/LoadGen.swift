// LoadGen: placeholder until the target lands.
enum _LoadGenPlaceholder {}
