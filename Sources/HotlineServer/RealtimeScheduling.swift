// HotlineServer: real-time scheduling for the threads that carry calls (`--realtime`), as
// FreeSWITCH's `-rp` and Asterisk's `-p` do: on a machine shared with other work, the call
// loops and the ticket writer then run as soon as they are runnable instead of waiting for a
// time slice, which is what RTP spacing and answer times lose under contention.
#if canImport(Glibc)
import Glibc
#endif

enum RealtimeScheduling {
    /// Puts the calling thread under SCHED_RR at `priority` (1–99). Returns nil on success, or
    /// why not (typically EPERM: the process needs CAP_SYS_NICE or an RLIMIT_RTPRIO, e.g.
    /// systemd's `LimitRTPRIO=`/`CPUSchedulingPolicy=rr`). The kernel's RT throttling
    /// (sched_rt_runtime_us, 95 % by default) keeps a runaway loop from freezing the machine.
    static func enableForCurrentThread(priority: Int32) -> String? {
        #if canImport(Glibc)
        var parameters = sched_param()
        parameters.sched_priority = priority
        let result = pthread_setschedparam(pthread_self(), CInt(SCHED_RR), &parameters)
        return result == 0 ? nil : String(cString: strerror(result))
        #else
        return "real-time scheduling is supported on Linux only"
        #endif
    }
}
