/* LD_PRELOAD library for scripts/bench-contention: counts how often a process waited
 * for a lock, without the fuzzing drivers. CPython's free-threaded locks spin with
 * sched_yield, then park on a semaphore; both go through the C library, so both are
 * counted here. Which lock is not known: the benchmark's only contended locks are the
 * globals and builtins dicts' (the fuzzers' wait oracle names them; this cannot).
 * At exit writes "PARKS SPINS" to the file FTFUZZ_WAIT_COUNTS names. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_long parks, spins;

#define FORWARD(ret, name, params, args)                         \
    ret name params                                              \
    {                                                            \
        static ret(*real) params;                                \
        if (!real) {                                             \
            real = (ret(*) params)dlsym(RTLD_NEXT, #name);       \
        }                                                        \
        COUNT_##name;                                            \
        return real args;                                        \
    }

#define COUNT_sem_wait atomic_fetch_add_explicit(&parks, 1, memory_order_relaxed)
#define COUNT_sem_timedwait COUNT_sem_wait
#define COUNT_sem_clockwait COUNT_sem_wait
#define COUNT_sched_yield atomic_fetch_add_explicit(&spins, 1, memory_order_relaxed)

FORWARD(int, sem_wait, (sem_t * s), (s))
FORWARD(int, sem_timedwait, (sem_t * s, const struct timespec *t), (s, t))
FORWARD(int, sem_clockwait, (sem_t * s, clockid_t c, const struct timespec *t), (s, c, t))
FORWARD(int, sched_yield, (void), ())

__attribute__((destructor)) static void write_counts(void)
{
    const char *path = getenv("FTFUZZ_WAIT_COUNTS");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%ld %ld\n", atomic_load(&parks), atomic_load(&spins));
        fclose(f);
    }
}
