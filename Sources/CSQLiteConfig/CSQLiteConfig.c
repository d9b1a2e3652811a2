// CSQLiteConfig: see include/CSQLiteConfig.h.
#include <sqlite3.h>
#include "CSQLiteConfig.h"

int hotline_sqlite_configure(void) {
    int code = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    if (code != SQLITE_OK) return code;
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
