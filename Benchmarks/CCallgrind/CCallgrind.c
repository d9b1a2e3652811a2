// Everything is in include/CCallgrind.h (static inline); SwiftPM wants one source file.
#include "CCallgrind.h"
