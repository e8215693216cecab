/* Waits: each time a worker cannot go on because another thread holds a lock, and the
 * code that must never do that.
 *
 * sched_blocking.c sees every wait of a worker: a contended PyMutex acquisition spins
 * (sched_yield) and then parks (a semaphore); stop-the-world, events and joins park.
 * It calls oracle_waits_waiting at the first spin or park of a wait and
 * oracle_waits_done when the lock is taken or the thread wakes. A wait is named by
 * its lock (what owns the mutex, when the world has it), the first CPython function
 * above the lock machinery on the waiter's stack, the thread and op holding the lock
 * (serialized runs only: there the holder is stopped and its critical-section chain can
 * be read; in free mode it runs on), and its length: scheduling points that other
 * threads ran while it waited (serialized, and so the same in every process), or
 * nanoseconds (free mode). A serialized thread that spins without taking a lock (a
 * retry loop waiting for a descheduled thread) is told by the scheduler when it used
 * up its budget of points: a wait too, on no lock.
 *
 * The policy FTFUZZ_NO_WAIT_IN=f,g names functions that must never wait (a patch
 * series declares its own defaults, scripts/build compiles them in): a wait with one of
 * them on the waiter's stack, below any release of a reference, is a `waited-in-fast-path`
 * finding. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifndef FTF_NO_WAIT_IN
#define FTF_NO_WAIT_IN ""
#endif

#define MAX_POLICY_RANGES 32
#define MAX_WAITS 512

static struct {
    char names[512];
    uintptr_t ranges[MAX_POLICY_RANGES][2];
    const char *range_name[MAX_POLICY_RANGES];
    int nranges;
} policy;

static struct {
    ftf_run_t *_Atomic run; /* NULL between runs: a worker's exit can wait too */
    unsigned gen; /* which run the open waits belong to */
    oracle_wait_t waits[MAX_WAITS];
    atomic_int n;  /* may exceed MAX_WAITS: those are counted, not kept */
} account;

static _Thread_local struct {
    unsigned gen;
    int index; /* this thread's open wait, -1 none */
    int64_t since;
} mine = {0, -1, 0};

static void load_policy(void)
{
    const char *env = getenv("FTFUZZ_NO_WAIT_IN");
    snprintf(policy.names, sizeof(policy.names), "%s", env ? env : FTF_NO_WAIT_IN);
    char copy[sizeof(policy.names)], *save = NULL;
    memcpy(copy, policy.names, sizeof(copy));
    for (char *f = strtok_r(copy, ", ", &save); f; f = strtok_r(NULL, ", ", &save)) {
        int room = MAX_POLICY_RANGES - policy.nranges;
        int n = symbols_ranges(f, policy.ranges + policy.nranges, room);
        if (n == 0) {
            fprintf(stderr, "ftfuzz: FTFUZZ_NO_WAIT_IN names %s, which this executable does not "
                            "have (inlined or misspelt?): the policy cannot hold\n", f);
            exit(2);
        }
        for (int i = 0; i < n && i < room; i++) {
            policy.range_name[policy.nranges + i] = strdup(f);
        }
        policy.nranges += n < room ? n : room;
    }
}

const char *oracle_waits_policy(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_policy);
    return policy.names;
}

void oracle_waits_run_begin(ftf_run_t *run)
{
    oracle_waits_policy();
    account.gen++;
    atomic_store(&account.n, 0);
    atomic_store(&account.run, run);
}

void oracle_waits_run_end(void) { atomic_store(&account.run, NULL); }

/* Frames of the waiting itself, and of this library on the way there: a wait is told
 * by the first frame above them. */
static bool machinery(const char *fn)
{
    static const char *const parts[] = {"Mutex", "CriticalSection", "PyEvent", "_Py_yield",
                                        "sched_", "oracle_", "cooperative_wait", "serial_",
                                        "__wrap_", "wait_begins", "backtrace", "__tsan_atomic"};
    return symbols_parks(fn) || symbols_named_like(fn, parts, sizeof(parts) / sizeof(parts[0]));
}

/* Frames that release a reference. What a release runs (a deallocator, the hand-over of
 * an object to its owner thread, whose queue has a lock) waits on its own account: a
 * lock-free store still drops the old value, as the locked one did. By part of the name:
 * _Py_Dealloc and _Py_MergeZeroLocalRefcount end in tail calls and leave no frame, but
 * the type's deallocator (list_dealloc, subtype_dealloc, ...) does. */
static bool releases(const char *fn)
{
    static const char *const parts[] = {"dealloc", "Dealloc", "_Py_MergeZeroLocalRefcount",
                                        "_Py_DecRefShared", "_Py_brc_queue_object"};
    return symbols_named_like(fn, parts, sizeof(parts) / sizeof(parts[0]));
}

/* Calls visit(t, mutex, ctx) for each mutex another worker's active critical sections
 * hold, until it returns true; returns that worker, or -1. Serialized runs, from inside
 * an op only: every other worker is then stopped at a scheduling point or done with its
 * ops, so its chain holds still. (In the drain after the ops, workers run unscheduled:
 * a chain read then was a use of memory its thread was rewriting.) */
static int each_held(const ftf_run_t *run, int waiter, bool (*visit)(int, const void *, void *), void *ctx)
{
    if (run->prog->mode != FTF_MODE_SERIAL) {
        return -1;
    }
    for (int t = 0; t < run->prog->nthreads; t++) {
        PyThreadState *ts = t == waiter ? NULL : runtime_worker_tstate(t);
        /* The tag bits of each link say whether the section it points to is active
         * (not suspended while its thread waited) and whether it has two mutexes. */
        for (uintptr_t p = ts ? ts->critical_section : 0; p & ~(uintptr_t)3;) {
            PyCriticalSection *c = (PyCriticalSection *)(p & ~(uintptr_t)3);
            if (!(p & 1) && (visit(t, c->_cs_mutex, ctx) ||
                             ((p & 2) && visit(t, ((PyCriticalSection2 *)c)->_cs_mutex2, ctx)))) {
                return t;
            }
            p = c->_cs_prev;
        }
    }
    return -1;
}

static bool is_lock(int t, const void *m, void *lock) { return (void)t, m == lock; }

typedef struct {
    const ftf_run_t *run;
    char *buf;
    size_t len;
} held_list_t;

static bool list_held(int t, const void *m, void *ctx)
{
    held_list_t *h = ctx;
    size_t used = strlen(h->buf);
    char name[64];
    world_describe_lock(h->run->world, m, name, sizeof(name));
    snprintf(h->buf + used, h->len - used, "%st%d (op %d) holds %s", used ? ", " : "", t,
             oracle_watchdog_op_of(t), name);
    return false;
}

static void describe_op(const ftf_run_t *run, int tid, int op, char *buf, size_t len)
{
    if (op < 0) {
        snprintf(buf, len, "t%d (between ops)", tid);
        return;
    }
    char text[96];
    schedule_format_op(run->prog, op, text, sizeof(text));
    snprintf(buf, len, "t%d (op %d: %s)", tid, op, text);
}

_Noreturn static void report_violation(const oracle_wait_t *w, const char *fn)
{
    const ftf_run_t *run = account.run;
    char waiter[160], what[200], others[400] = "";
    describe_op(run, w->waiter, w->waiter_op, waiter, sizeof(waiter));
    if (w->spin) {
        /* No lock to name: say which locks the descheduled threads hold. */
        snprintf(what, sizeof(what), "spun %lld scheduling points without progress",
                 (long long)w->length);
        each_held(run, w->waiter, list_held, &(held_list_t){run, others, sizeof(others)});
        if (!others[0]) {
            snprintf(others, sizeof(others), "none holds a critical section");
        }
    }
    else {
        snprintf(what, sizeof(what), "waited for the lock of %s", w->lock_name);
        if (w->holder >= 0) {
            describe_op(run, w->holder, w->holder_op, others, sizeof(others));
        }
        else {
            snprintf(others, sizeof(others), "%s", run->prog->mode == FTF_MODE_SERIAL
                                                       ? "not known: a lock taken outside a critical section"
                                                       : "not known in free mode (the serialized fuzzer names it)");
        }
    }
    /* The waiter's frames from the one that waited up, with source lines. */
    static char where[8][256];
    int first = w->first_frame, n = w->npcs - first < 8 ? w->npcs - first : 8;
    report_symbolize((const void *const *)w->pcs + first, n, where);
    char stack[1200] = "";
    for (int i = 0; i < n; i++) {
        size_t used = strlen(stack);
        snprintf(stack + used, sizeof(stack) - used, "\n==ftfuzz==     #%d %s", i, where[i]);
    }
    report_finding("waited-in-fast-path",
                   "%s %s inside %s, which must never wait (FTFUZZ_NO_WAIT_IN=%s); %s: %s; "
                   "the waiter's stack:%s",
                   waiter, what, fn, policy.names, w->spin ? "the other threads" : "the lock's holder",
                   others, stack);
}

/* Records a new wait of the calling worker and checks it against the policy; returns
 * its index (past MAX_WAITS: counted, not kept). */
static int oracle_waits_open(ftf_run_t *run, const void *lock, bool mutex, int64_t spun)
{
    int i = atomic_fetch_add(&account.n, 1);
    oracle_wait_t tmp, *w = i < MAX_WAITS ? &account.waits[i] : &tmp;
    memset(w, 0, sizeof(*w));
    w->lock = lock;
    w->mutex = mutex;
    w->spin = spun > 0;
    w->length = spun;
    w->waiter = ftf_here.tid;
    w->waiter_op = ftf_here.op;
    w->holder = mutex ? each_held(run, w->waiter, is_lock, (void *)lock) : -1;
    w->holder_op = w->holder >= 0 ? oracle_watchdog_op_of(w->holder) : -1;
    if (mutex) {
        world_describe_lock(run->world, lock, w->lock_name, sizeof(w->lock_name));
    }
    else if (w->spin) {
        snprintf(w->lock_name, sizeof(w->lock_name), "a spin (no lock)");
    }
    else {
        snprintf(w->lock_name, sizeof(w->lock_name), "an event (parked at %p)", lock);
    }
    w->npcs = report_backtrace(w->pcs, ORACLE_WAIT_FRAMES);
    w->first_frame = w->npcs;
    bool inside = false; /* past the unwinder's own frames, into the waiting */
    bool released = false; /* past a frame that releases a reference */
    for (int f = 0; f < w->npcs; f++) {
        const char *fn = symbols_function((const char *)w->pcs[f] - 1);
        inside = inside || machinery(fn);
        if (inside && w->first_frame == w->npcs && !machinery(fn)) {
            w->first_frame = f;
            w->function = fn ? fn : "(unknown)";
        }
        released = released || (inside && releases(fn));
        for (int r = 0; r < policy.nranges && !released; r++) {
            uintptr_t pc = (uintptr_t)w->pcs[f] - 1;
            if (pc >= policy.ranges[r][0] && pc < policy.ranges[r][1]) {
                report_violation(w, policy.range_name[r]);
            }
        }
    }
    return i;
}

/* Only the waits of a worker inside an op count: the driving thread's, idle workers'
 * and the drain's (workers running unscheduled) belong to no schedule. */
void oracle_waits_waiting(const void *lock, bool mutex, int64_t now)
{
    ftf_run_t *run = atomic_load(&account.run);
    if (!run || ftf_here.op < 0) {
        return;
    }
    mine.gen = account.gen;
    mine.since = now;
    mine.index = oracle_waits_open(run, lock, mutex, 0);
}

void oracle_waits_spinning(int64_t points)
{
    ftf_run_t *run = atomic_load(&account.run);
    if (run && ftf_here.op >= 0) {
        oracle_waits_open(run, NULL, false, points);
    }
}

void oracle_waits_done(int64_t now)
{
    if (mine.gen != account.gen || mine.index < 0) {
        return;
    }
    if (mine.index < MAX_WAITS) {
        account.waits[mine.index].length = now - mine.since;
    }
    mine.index = -1;
}

int oracle_waits_count(void) { return atomic_load(&account.n); }

const oracle_wait_t *oracle_waits_get(int i) { return i < MAX_WAITS ? &account.waits[i] : NULL; }
