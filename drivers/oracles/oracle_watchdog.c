/* The watchdog: an op that does not finish within the bound is a finding, since a
 * livelock or deadlock in the runtime is as much a bug as a crash. It runs on a plain
 * thread of its own, never attached to the interpreter, so a stuck world cannot stop it.
 *
 * An op's age is counted by the watchdog itself, in the time it was awake to see: each
 * tick adds at most one period, however long the tick's sleep took. A process stopped
 * (Ctrl-Z, a debugger, a suspended laptop or VM) sleeps its watchdog too, so the stop
 * adds one period, where a wall clock made every op in progress stuck: a fuzz_slots run
 * stopped for 2 s reported "thread 1 stuck in op 15 (barrier yield) for 2014 ms".
 * Workers read no clock: in a serialized run the one they would read is the scheduler's
 * virtual clock, which the real one cannot be compared with. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

static int bound_ms = 1000;

/* Written by the worker only: its count of op starts and ends, odd while in an op. */
static struct {
    atomic_uint_fast64_t seq;
    atomic_int op;
} slots[FTF_MAX_THREADS];

int oracle_watchdog_bound_ms(void) { return bound_ms; }

static void advance(int tid)
{
    uint_fast64_t s = atomic_load_explicit(&slots[tid].seq, memory_order_relaxed);
    atomic_store_explicit(&slots[tid].seq, s + 1, memory_order_release);
}

void oracle_watchdog_op_begin(int tid, int op)
{
    atomic_store_explicit(&slots[tid].op, op, memory_order_relaxed);
    advance(tid);
}

void oracle_watchdog_op_end(int tid) { advance(tid); }

int oracle_watchdog_op_of(int tid)
{
    return atomic_load_explicit(&slots[tid].seq, memory_order_acquire) % 2
               ? atomic_load_explicit(&slots[tid].op, memory_order_relaxed)
               : -1;
}

static void *watch(void *arg)
{
    (void)arg;
    int64_t period_ms = bound_ms / 4 > 10 ? bound_ms / 4 : 10;
    struct timespec period = {period_ms / 1000, (period_ms % 1000) * 1000000L};
    uint_fast64_t seen[FTF_MAX_THREADS] = {0};
    int64_t ms[FTF_MAX_THREADS] = {0};
    int ops[FTF_MAX_THREADS];
    int64_t last = runtime_now_ns();
    for (;;) {
        nanosleep(&period, NULL);
        int64_t now = runtime_now_ns(), awake_ms = (now - last) / 1000000;
        last = now;
        if (awake_ms > period_ms) {
            awake_ms = period_ms;
        }
        bool over = false;
        for (int t = 0; t < FTF_MAX_THREADS; t++) {
            uint_fast64_t s = atomic_load_explicit(&slots[t].seq, memory_order_acquire);
            ops[t] = atomic_load_explicit(&slots[t].op, memory_order_relaxed);
            ms[t] = s % 2 == 0 ? -1 : s == seen[t] ? ms[t] + awake_ms : 0;
            seen[t] = s;
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
