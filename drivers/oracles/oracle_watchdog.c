/* The watchdog: an op that does not finish within the bound is a finding, since a
 * livelock or deadlock in the runtime is as much a bug as a crash. It runs on a plain
 * thread of its own, never attached to the interpreter, so a stuck world cannot stop it. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

static int bound_ms = 1000;

static struct {
    _Atomic int64_t started_ns; /* 0 while the thread is between ops */
    atomic_int op;
} slots[FTF_MAX_THREADS];

int oracle_watchdog_bound_ms(void) { return bound_ms; }

void oracle_watchdog_op_begin(int tid, int op)
{
    atomic_store_explicit(&slots[tid].op, op, memory_order_relaxed);
    atomic_store_explicit(&slots[tid].started_ns, runtime_now_ns(), memory_order_release);
}

void oracle_watchdog_op_end(int tid) { atomic_store_explicit(&slots[tid].started_ns, 0, memory_order_release); }

int oracle_watchdog_op_of(int tid)
{
    return atomic_load_explicit(&slots[tid].started_ns, memory_order_acquire)
               ? atomic_load_explicit(&slots[tid].op, memory_order_relaxed)
               : -1;
}

static void *watch(void *arg)
{
    (void)arg;
    long period_ms = bound_ms / 4 > 10 ? bound_ms / 4 : 10;
    struct timespec period = {period_ms / 1000, (period_ms % 1000) * 1000000L};
    for (;;) {
        nanosleep(&period, NULL);
        int64_t now = runtime_now_ns(), ms[FTF_MAX_THREADS];
        int ops[FTF_MAX_THREADS];
        bool over = false;
        for (int t = 0; t < FTF_MAX_THREADS; t++) {
            int64_t s = atomic_load_explicit(&slots[t].started_ns, memory_order_acquire);
            ms[t] = s ? (now - s) / 1000000 : -1;
            ops[t] = atomic_load(&slots[t].op);
            over = over || ms[t] > bound_ms;
        }
        if (over) {
            report_stuck(ms, ops, bound_ms);
        }
    }
    return NULL;
}

void oracle_watchdog_start(void)
{
    const char *env = getenv("FTFUZZ_WATCHDOG_MS");
    if (env && *env) {
        bound_ms = atoi(env);
        if (bound_ms <= 0) {
            fprintf(stderr, "ftfuzz: FTFUZZ_WATCHDOG_MS=%s is not a positive number of ms\n", env);
            abort();
        }
    }
    pthread_t t;
    if (pthread_create(&t, NULL, watch, NULL)) {
        fprintf(stderr, "ftfuzz: cannot create the watchdog thread\n");
        abort();
    }
    pthread_detach(t);
}
