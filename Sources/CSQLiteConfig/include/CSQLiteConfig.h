// CSQLiteConfig: the process-wide SQLite settings of the ticket store, in C because
// sqlite3_config is variadic, which Swift cannot call.
#ifndef HOTLINE_CSQLITECONFIG_H
#define HOTLINE_CSQLITECONFIG_H

/// Multi-thread mode (no mutex per connection: GRDB already serializes each connection's use)
/// and no memory statistics (no global mutex per allocation). Only takes effect before SQLite
/// initializes, that is before the process's first connection; later it changes nothing and
/// returns SQLITE_MISUSE (21). Returns SQLITE_OK (0) when applied.
int hotline_sqlite_configure(void);

#endif
