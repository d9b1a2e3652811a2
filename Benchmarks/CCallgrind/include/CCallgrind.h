// CCallgrind: callgrind's client requests for Benchmarks/Stages (hotline-stages), which turns
// instrumentation on around its measured loop only. The requests are macros of inline
// assembly that Swift cannot call, hence these wrappers. Without valgrind's headers, or when
// not running under valgrind, they do nothing (a few instructions each).
#ifndef HOTLINE_CCALLGRIND_H
#define HOTLINE_CCALLGRIND_H

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HOTLINE_HAS_CALLGRIND 1
#endif
#endif

/// Starts instrumenting (and so counting) every thread's instructions: run callgrind with
/// --instr-atstart=no.
static inline void hotline_callgrind_start(void) {
#ifdef HOTLINE_HAS_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
}

/// Stops instrumenting.
static inline void hotline_callgrind_stop(void) {
#ifdef HOTLINE_HAS_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
}

/// Whether valgrind's headers were found when this was compiled.
static inline int hotline_callgrind_available(void) {
#ifdef HOTLINE_HAS_CALLGRIND
    return 1;
#else
    return 0;
#endif
}

#endif
