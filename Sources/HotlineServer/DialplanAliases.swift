// The Dialplan module's TimerID would clash with Timers.TimerID, and its `Dialplan` type
// shadows the module name, so the names are pinned here, in a file that imports only Dialplan.
import Dialplan

typealias DialplanTimerID = TimerID
typealias DialplanKey = DTMFKey
