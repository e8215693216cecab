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

/* Released together: no thread starts its ops before every worker of the run is awake,
 * or the first would be done before the last woke. */
static void free_thread_start(ftf_run_t *run, int tid)
{
    (void)tid;
    atomic_fetch_add(&run->threads_started, 1);
    while (atomic_load(&run->threads_started) < run->prog->nthreads) {
        sched_yield();
    }
}

/* Real concurrency, real collections: a serialized run of this process may have
 * turned the automatic ones off. */
static void free_run_begin(ftf_run_t *run)
{
    (void)run;
    PyGC_Enable();
}

const ftf_sched_t sched_free = {.name = "free", .run_begin = free_run_begin,
                              .thread_start = free_thread_start, .before_op = free_before_op};

