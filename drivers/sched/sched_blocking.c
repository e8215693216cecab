/* CPython's blocking, seen by the serialized scheduler. Every wait of the free-threaded
 * runtime (PyMutex, critical sections, the parking lot, stop-the-world, PyEvent) ends
 * in a POSIX semaphore wait, and its spin loops call sched_yield; its timeouts and
 * PyMutex's fairness read clock_gettime. These definitions take the place of the C
 * library's for the whole program. On a thread the strategy in charge runs (its
 * `scheduled` hook says which) they wait cooperatively through its hooks (the turn
 * passes on while the semaphore is empty), yield the turn, and read its clock; on any
 * other thread, and under a strategy without such hooks, they are the C library's own.
 * This file knows no strategy by name: the runner says which one is in charge. */
#include <dlfcn.h>
#include <errno.h>
#include <semaphore.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

static struct {
    int (*sem_wait)(sem_t *);
    int (*sem_trywait)(sem_t *);
    int (*sem_timedwait)(sem_t *, const struct timespec *);
    int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
    int (*sem_post)(sem_t *);
    int (*sched_yield)(void);
    int (*clock_gettime)(clockid_t, struct timespec *);
} real;

/* Set by the driving thread before it releases the workers of a run. */
static const ftf_sched_t *_Atomic in_charge;

void sched_blocking_use(const ftf_sched_t *sched) { atomic_store(&in_charge, sched); }

/* The strategy that runs the calling thread, or NULL: the C library's turn. */
static const ftf_sched_t *scheduler(void)
{
    const ftf_sched_t *s = atomic_load_explicit(&in_charge, memory_order_relaxed);
    return s && s->scheduled && s->scheduled() ? s : NULL;
}

static void *libc_function(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fprintf(stderr, "ftfuzz: the C library has no %s: %s\n", name, dlerror());
        abort();
    }
    return f;
}

/* Also a constructor: a program that never starts the interpreter (a test of the
 * schedule format) still goes through these functions, and so does LSan at its exit. */
__attribute__((constructor)) void sched_blocking_init(void)
{
    real.sem_wait = libc_function("sem_wait");
    real.sem_trywait = libc_function("sem_trywait");
    real.sem_timedwait = libc_function("sem_timedwait");
    real.sem_clockwait = libc_function("sem_clockwait");
    real.sem_post = libc_function("sem_post");
    real.sched_yield = libc_function("sched_yield");
    /* Read before any of this is used: the clock is needed first, by ftf_init itself. */
    __atomic_store_n(&real.clock_gettime, libc_function("clock_gettime"), __ATOMIC_RELEASE);
}

static int64_t ns_of(const struct timespec *ts) { return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec; }

/* The deadline of a timed wait on the virtual clock: CPython computed `abs` from the
 * same virtual clock. */
static int cooperative_wait(const ftf_sched_t *sched, sem_t *s, int64_t deadline_ns)
{
    for (;;) {
        if (real.sem_trywait(s) == 0) {
            return 0;
        }
        if (!sched->block(s, deadline_ns)) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
}

int sem_wait(sem_t *s)
{
    const ftf_sched_t *sched = scheduler();
    return sched ? cooperative_wait(sched, s, INT64_MAX) : real.sem_wait(s);
}

int sem_timedwait(sem_t *s, const struct timespec *abs)
{
    const ftf_sched_t *sched = scheduler();
    return sched ? cooperative_wait(sched, s, ns_of(abs)) : real.sem_timedwait(s, abs);
}

int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abs)
{
    const ftf_sched_t *sched = scheduler();
    return sched ? cooperative_wait(sched, s, ns_of(abs)) : real.sem_clockwait(s, clock, abs);
}

/* Any thread may post to a scheduled thread's semaphore. */
int sem_post(sem_t *s)
{
    int r = real.sem_post(s);
    const ftf_sched_t *sched = atomic_load_explicit(&in_charge, memory_order_relaxed);
    if (sched && sched->wake) {
        sched->wake(s);
    }
    return r;
}

int sched_yield(void)
{
    const ftf_sched_t *sched = scheduler();
    if (sched) {
        sched->yield();
        return 0;
    }
    return real.sched_yield();
}

int clock_gettime(clockid_t clock, struct timespec *ts)
{
    const ftf_sched_t *sched = scheduler();
    if (sched) {
        int64_t now = sched->now_ns();
        ts->tv_sec = now / 1000000000;
        ts->tv_nsec = now % 1000000000;
        return 0;
    }
    int (*f)(clockid_t, struct timespec *) = __atomic_load_n(&real.clock_gettime, __ATOMIC_ACQUIRE);
    if (!f) {
        /* Before sched_blocking_init (a constructor, the sanitizer runtime): ask the C library
         * directly, without caching from a thread that may race with sched_blocking_init. */
        f = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    }
    return f(clock, ts);
}
