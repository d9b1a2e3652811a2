// AudioDevice: placeholder until the target lands.
enum _AudioDevicePlaceholder {}
