// WorkCalendar: placeholder until the target lands.
enum _WorkCalendarPlaceholder {}
