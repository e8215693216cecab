/* A garbage collection among the ops. The free-threaded collector stops the world,
 * merges every thread's queued reference counts and frees what the lock-free paths may
 * still be reading; serialized runs collect only here (sched_serial.c), so this is how
 * a schedule interleaves a collection with the other workers' ops. */
#include "internal.h"

void ops_collect(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    (void)op;
    oracle_require(run, world_collect(run->world) == 0, d->name);
}
