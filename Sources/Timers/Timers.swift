// Timers: placeholder until the target lands.
enum _TimersPlaceholder {}
