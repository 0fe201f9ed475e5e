WARNING:
BUG:
Oops
refcount_t
list_del corruption
list_add corruption
possible circular locking
lockdep
INFO: task
kmemleak: .* new suspected
UBSAN
KASAN
general protection fault
Call Trace
Kernel panic
