WARNING:
BUG:
Oops
refcount_t
list_del corruption
list_add corruption
possible circular locking
possible recursive locking
inconsistent lock state
suspicious RCU usage
possible irq lock inversion
bad unlock balance
held lock freed
DEBUG_LOCKS_WARN_ON
lock held when returning
BUG: sleeping function
INFO: lockdep is turned off
INFO: task
kmemleak: .* new suspected
UBSAN
KASAN
general protection fault
Call Trace
Kernel panic
