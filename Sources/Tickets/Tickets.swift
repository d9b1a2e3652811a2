// Tickets: placeholder until the target lands.
enum _TicketsPlaceholder {}
