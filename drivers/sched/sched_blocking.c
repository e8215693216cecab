/* CPython's blocking, seen by the serialized scheduler. Every wait of the free-threaded
 * runtime (PyMutex, critical sections, the parking lot, stop-the-world, PyEvent) ends
 * in a POSIX semaphore wait, and its spin loops call sched_yield; its timeouts and
 * PyMutex's fairness read clock_gettime. These definitions take the place of the C
 * library's for the whole program. On a thread the strategy in charge runs (its
 * `scheduled` hook says which) they wait cooperatively through its hooks (the turn
 * passes on while the semaphore is empty), yield the turn, and read its clock; on any
 * other thread, and under a strategy without such hooks, they are the C library's own.
 * This file knows no strategy by name: the runner says which one is in charge.
 *
 * It also tells the wait oracle when a worker waits. A contended PyMutex is taken in
 * CPython's PyMutex_Lock or _PyMutex_LockTimed (the inline fast path calls them only
 * when its compare-exchange failed); the link wraps both (-Wl,--wrap, CMakeLists.txt),
 * so this file knows which mutex a spinning or parked thread wants. */
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

/* The PyMutex the calling thread is inside the slow path of, or NULL; and whether the
 * oracle has been told of the wait it is in (so a spin loop tells it once, and a lock
 * taken without waiting costs nothing more). */
static _Thread_local const void *acquiring;
static _Thread_local bool waiting;

/* Where the run's clock is: scheduling points, or nanoseconds. */
static int64_t clock_of(const ftf_sched_t *s)
{
    return s && s->points ? (int64_t)s->points() : runtime_now_ns();
}

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

/* A thread parked by CPython waits on a semaphore inside its parking-lot entry, on its
 * own stack, right after the address it parks on (Python/parking_lot.c, struct
 * wait_entry: park_arg, addr, sema). A semaphore elsewhere is not CPython's parking. */
static const void *parked_on(const sem_t *s)
{
    pthread_attr_t a;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) != 0) {
        return NULL;
    }
    int ok = pthread_attr_getstack(&a, &lo, &size) == 0;
    pthread_attr_destroy(&a);
    const uintptr_t *addr = (const uintptr_t *)s - 1;
    if (!ok || (const char *)addr < (const char *)lo || (const char *)(s + 1) > (const char *)lo + size) {
        return NULL;
    }
    return (const void *)*addr;
}

/* Which waits count is the oracle's to say (oracle_waits_waiting). */
static void wait_begins(const ftf_sched_t *sched, const sem_t *s)
{
    if (waiting) {
        return;
    }
    waiting = true;
    oracle_waits_waiting(acquiring ? acquiring : s ? parked_on(s) : NULL, acquiring != NULL,
                         clock_of(sched));
}

static void wait_ends(const ftf_sched_t *sched)
{
    if (waiting) {
        waiting = false;
        oracle_waits_done(clock_of(sched));
    }
}

/* A park that was not for a mutex ends when the thread wakes; a mutex's wait ends when
 * the wrapper below returns with the mutex. */
static void park_ends(const ftf_sched_t *sched)
{
    if (!acquiring) {
        wait_ends(sched);
    }
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
        wait_begins(sched, s);
        bool woken = sched->block(s, deadline_ns);
        park_ends(sched);
        if (!woken) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
}

/* A wait of a thread no strategy schedules (free mode's workers, the driving thread):
 * the C library's, told to the oracle (which ignores threads that are not workers). */
#define REAL_WAIT(call)                                                                  \
    do {                                                                                 \
        const ftf_sched_t *free_mode = atomic_load_explicit(&in_charge, memory_order_relaxed); \
        if (!free_mode) {                                                                \
            return call;                                                                 \
        }                                                                                \
        wait_begins(free_mode, s);                                                       \
        int r = call;                                                                    \
        park_ends(free_mode);                                                            \
        return r;                                                                        \
    } while (0)

int sem_wait(sem_t *s)
{
    const ftf_sched_t *sched = scheduler();
    if (sched) {
        return cooperative_wait(sched, s, INT64_MAX);
    }
    REAL_WAIT(real.sem_wait(s));
}

int sem_timedwait(sem_t *s, const struct timespec *abs)
{
    const ftf_sched_t *sched = scheduler();
    if (sched) {
        return cooperative_wait(sched, s, ns_of(abs));
    }
    REAL_WAIT(real.sem_timedwait(s, abs));
}

int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abs)
{
    const ftf_sched_t *sched = scheduler();
    if (sched) {
        return cooperative_wait(sched, s, ns_of(abs));
    }
    REAL_WAIT(real.sem_clockwait(s, clock, abs));
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

/* CPython spins on a contended mutex with sched_yield before it parks. */
int sched_yield(void)
{
    const ftf_sched_t *sched = scheduler();
    if (acquiring) {
        wait_begins(sched ? sched : atomic_load_explicit(&in_charge, memory_order_relaxed), NULL);
    }
    if (sched) {
        sched->yield();
        return 0;
    }
    return real.sched_yield();
}

/* CPython's own, linked under these names by --wrap. */
void __real_PyMutex_Lock(PyMutex *m);
int __real__PyMutex_LockTimed(PyMutex *m, int64_t timeout_ns, int flags);

void __wrap_PyMutex_Lock(PyMutex *m);
void __wrap_PyMutex_Lock(PyMutex *m)
{
    const void *outer = acquiring;
    acquiring = m;
    __real_PyMutex_Lock(m);
    acquiring = outer;
    wait_ends(atomic_load_explicit(&in_charge, memory_order_relaxed));
}

int __wrap__PyMutex_LockTimed(PyMutex *m, int64_t timeout_ns, int flags);
int __wrap__PyMutex_LockTimed(PyMutex *m, int64_t timeout_ns, int flags)
{
    const void *outer = acquiring;
    acquiring = m;
    int r = __real__PyMutex_LockTimed(m, timeout_ns, flags);
    acquiring = outer;
    wait_ends(atomic_load_explicit(&in_charge, memory_order_relaxed));
    return r;
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
