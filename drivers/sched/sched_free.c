/* Free mode: all threads truly concurrent; the input only adds delays before ops. Its
 * threads block, yield and read clocks as the C library does. */
#include <sched.h>
#include <time.h>

#include "internal.h"

static void free_before_op(ftf_run_t *run, int tid, const ftf_op_t *op)
{
    (void)run, (void)tid;
    unsigned amount = op->delay >> 2;
    switch ((ftf_delay_t)(op->delay & 3)) {
    case FTF_DELAY_NONE:
        break;
    case FTF_DELAY_SPIN:
        for (volatile unsigned i = 0; i < 1u << (amount & 15); i++) {
        }
        break;
    case FTF_DELAY_YIELD:
        sched_yield();
        break;
    case FTF_DELAY_SLEEP: {
        struct timespec ts = {0, (long)amount * 1000};
        nanosleep(&ts, NULL);
        break;
    }
    }
}

/* Real concurrency, real collections: a serialized run of this process may have
 * turned the automatic ones off. */
static void free_run_begin(ftf_run_t *run)
{
    (void)run;
    PyGC_Enable();
}

const ftf_sched_t sched_free = {.name = "free", .run_begin = free_run_begin, .before_op = free_before_op};

