/* The serialized scheduler: exactly one worker runs at a time, and the input's schedule
 * decides who, so the same input is the same execution on any number of cores.
 *
 * The turn passes only at scheduling points: before each op, and in an atomics build at
 * every atomic operation inside CPython (sched_atomics.c). Threads keep a priority order
 * (PCT-style): the first runnable thread in it holds the turn. A programmed switch puts
 * its thread at the front; a thread that blocks, spins (sched_yield) or finishes passes
 * the turn down the order. Blocking is cooperative (sched_blocking.c routes CPython's
 * semaphores here), so a thread parked on a lock, a stop-the-world request or a join
 * hands the turn on and gets it back once it was woken. When nobody can run, the
 * earliest timed wait times out on the virtual clock; when nobody can even time out,
 * that is a deadlock among the workers, and a finding.
 *
 * Only the thread holding the turn runs CPython code, so the counters below are read
 * and written by one thread at a time; `lock` orders the memory between two holders.
 * The turn itself passes through a futex word per thread, taken without the lock: a
 * condition variable's waiter woke into the lock its waker still held, two context
 * switches more per handover on one core. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Points one thread may pass while another could run, before it must offer the turn:
 * a lock-free retry loop that waits for a descheduled thread would otherwise spin
 * forever here, where on real cores it would not. */
#define FAIR_BUDGET 200000
/* Virtual time per scheduling point: 1 ms of waiting (PyMutex's fairness bound) is a
 * thousand points. */
#define NS_PER_POINT 1000
#define LOG_CAP 48

enum { RUNNABLE, BLOCKED, DONE };
static const char *const state_names[] = {"runnable", "blocked", "done"};

typedef struct {
    uint64_t step;
    int from, to, op;
    const void *pc;
    const char *why;
} switch_rec_t;

static struct {
    pthread_mutex_t lock;
    atomic_uint turns[FTF_MAX_THREADS]; /* bumped each time the thread is given the turn */
    atomic_bool active;
    const ftf_program_t *prog;
    int n, arrived;
    atomic_int current;
    uint8_t order[FTF_MAX_THREADS]; /* priority, highest first */
    int state[FTF_MAX_THREADS];
    const void *channel[FTF_MAX_THREADS];
    int64_t deadline[FTF_MAX_THREADS];
    bool timed_out[FTF_MAX_THREADS];
    int op[FTF_MAX_THREADS];
    uint64_t step, next_switch, turn_start;
    int next_sw;
    int64_t clock_base, vjump;
    switch_rec_t log[LOG_CAP];
    int nlog, nswitched;
    FILE *trace;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local int me = -1;
/* interp_world_stopped_flag(), once a run has begun. */
static const bool world_not_stopped = false;
static const bool *world_stopped = &world_not_stopped;

static void serial_yield(void);
static int64_t serial_now_ns(void);

static bool serial_is_scheduled(void) { return me >= 0; }

static uintptr_t exe_base;

static uintptr_t pc_offset(const void *pc) { return pc ? (uintptr_t)pc - exe_base : 0; }

/* An op as a location: its kind (top bit set: no code offset is that large), or
 * UINT8_MAX between ops. */
static uint64_t op_location(int op)
{
    return UINT64_C(1) << 63 | (op >= 0 ? S.prog->ops[op].code : UINT8_MAX);
}

/* Where the calling thread is, for interleaving coverage: its code's offset, or between
 * ops and in waits the op it is at. */
static uint64_t location(const void *pc)
{
    return pc ? pc_offset(pc) : op_location(ftf_here.op);
}

static void trace_point(const void *pc)
{
    if (S.trace) {
        if (pc) {
            fprintf(S.trace, "%" PRIu64 " t%d pc +0x%" PRIxPTR "\n", S.step, me, pc_offset(pc));
        }
        else {
            fprintf(S.trace, "%" PRIu64 " t%d before op %d\n", S.step, me, ftf_here.op);
        }
    }
}

static void move_to(int tid, bool front)
{
    int i = 0;
    while (S.order[i] != tid) {
        i++;
    }
    if (front) {
        memmove(S.order + 1, S.order, (size_t)i);
        S.order[0] = (uint8_t)tid;
    }
    else {
        memmove(S.order + i, S.order + i + 1, (size_t)(S.n - 1 - i));
        S.order[S.n - 1] = (uint8_t)tid;
    }
}

/* The next thread to hold the turn: the first runnable one in priority order, else the
 * earliest timed wait, which times out now on the virtual clock; -1 if nobody. */
static int pick_next(void)
{
    for (int i = 0; i < S.n; i++) {
        if (S.state[S.order[i]] == RUNNABLE) {
            return S.order[i];
        }
    }
    int best = -1;
    for (int t = 0; t < S.n; t++) {
        if (S.state[t] == BLOCKED && S.deadline[t] != INT64_MAX &&
            (best < 0 || S.deadline[t] < S.deadline[best])) {
            best = t;
        }
    }
    if (best >= 0) {
        int64_t now = serial_now_ns();
        if (S.deadline[best] > now) {
            S.vjump += S.deadline[best] - now;
        }
        S.state[best] = RUNNABLE;
        S.timed_out[best] = true;
    }
    return best;
}

static void await_turn(void)
{
    for (;;) {
        unsigned seen = atomic_load(&S.turns[me]);
        if (S.current == me) {
            return;
        }
        runtime_futex_wait(&S.turns[me], seen);
    }
}

/* Gives the turn to `to` and, unless that is the caller, waits to get it back. Holds
 * S.lock, which it lets go while it waits. */
static void switch_to(int to, const void *pc, const char *why)
{
    if (to == me) {
        S.turn_start = S.step;
        return;
    }
    if (S.nlog < LOG_CAP) {
        S.log[S.nlog++] = (switch_rec_t){S.step, me, to, ftf_here.op, pc, why};
    }
    S.nswitched++;
    sched_interleaving_note(location(pc), op_location(S.op[to]));
    S.current = to;
    S.turn_start = S.step;
    pthread_mutex_unlock(&S.lock);
    runtime_futex_bump(&S.turns[to]);
    await_turn();
    pthread_mutex_lock(&S.lock);
}

_Noreturn static void deadlock(void)
{
    char who[256] = "";
    for (int t = 0; t < S.n; t++) {
        size_t used = strlen(who);
        snprintf(who + used, sizeof(who) - used, "%st%d %s in op %d", t ? ", " : "", t,
                 state_names[S.state[t]], S.op[t]);
    }
    pthread_mutex_unlock(&S.lock);
    report_finding("deadlock", "no worker can run and none waits with a timeout: %s", who);
}

/* Not instrumented for coverage: it runs at every atomic of CPython, and the fuzzer
 * learns where schedules switch from the switch pairs (sched_interleaving.c). */
__attribute__((no_sanitize("coverage"))) void sched_serial_point(const void *pc)
{
    /* While the world is stopped no other thread may run, so a switch there could only
     * come back; and what a collection does there (it walks the whole heap) depends on
     * every input before, so its atomics would make the path do so too. */
    if (me < 0 || *world_stopped) {
        return;
    }
    S.step++;
    trace_point(pc);
    if (S.step >= S.next_switch) {
        pthread_mutex_lock(&S.lock);
        const ftf_switch_t *sw = &S.prog->switches[S.next_sw++];
        S.next_switch = S.next_sw < S.prog->nswitches
                            ? S.step + S.prog->switches[S.next_sw].gap
                            : UINT64_MAX;
        int to = sw->thread;
        while (S.state[to] != RUNNABLE) {
            to = (to + 1) % S.n; /* terminates: the caller is runnable */
        }
        move_to(to, true);
        switch_to(to, pc, "switch");
        pthread_mutex_unlock(&S.lock);
    }
    else if (S.step - S.turn_start > FAIR_BUDGET) {
        oracle_waits_spinning((int64_t)(S.step - S.turn_start));
        serial_yield();
    }
}

static void serial_yield(void)
{
    pthread_mutex_lock(&S.lock);
    move_to(me, false);
    switch_to(pick_next(), NULL, "yield");
    pthread_mutex_unlock(&S.lock);
}

static bool serial_block(const void *channel, int64_t deadline_ns)
{
    pthread_mutex_lock(&S.lock);
    S.state[me] = BLOCKED;
    S.channel[me] = channel;
    S.deadline[me] = deadline_ns;
    S.timed_out[me] = false;
    int to = pick_next();
    if (to < 0) {
        deadlock();
    }
    switch_to(to, NULL, "blocked");
    bool woken = !S.timed_out[me];
    pthread_mutex_unlock(&S.lock);
    return woken;
}

static void serial_wake(const void *channel)
{
    if (!atomic_load_explicit(&S.active, memory_order_acquire)) {
        return;
    }
    pthread_mutex_lock(&S.lock);
    for (int t = 0; t < S.n; t++) {
        if (S.state[t] == BLOCKED && S.channel[t] == channel) {
            S.state[t] = RUNNABLE;
        }
    }
    pthread_mutex_unlock(&S.lock);
}

static uint64_t serial_points(void) { return S.step; }

static int64_t serial_now_ns(void) { return S.clock_base + (int64_t)S.step * NS_PER_POINT + S.vjump; }

/* ---- the ftf_sched_t hooks ---------------------------------------------------------- */

/* Every clock a scheduled thread reads is this one virtual clock: it starts from the
 * real monotonic time, so durations measured across the run's start stay plausible. */
static int64_t real_clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What one run may inherit from the inputs before it is pinned here, so a crash found
 * deep in a fuzzing session replays in a fresh process: the caches (interp_state.c) are
 * emptied, and the collector never starts by itself. Its allocation count runs on from
 * input to input, so it would start at a different point in each replay.
 *
 * A collection before every run pinned all of that, but cost half of each run, and
 * only a run that collects itself (the gc.collect op) needs it: a collection's work is
 * every cycle, queued free and per-thread count that earlier inputs left. Other runs
 * never reach those; between them, one collection per COLLECT_EVERY runs frees them. */
#define COLLECT_EVERY 64
static bool collects(const ftf_run_t *run)
{
    for (int i = 0; i < run->prog->nops; i++) {
        if (run->table->ops[run->prog->ops[i].code]->family == FTF_FAMILY_COLLECT) {
            return true;
        }
    }
    return false;
}

static void serial_run_begin(ftf_run_t *run)
{
    static unsigned runs;
    interp_empty_caches();
    world_stopped = interp_world_stopped_flag();
    phases_mark(PHASE_CACHES);
    PyGC_Disable();
    bool periodic = runs++ % COLLECT_EVERY == COLLECT_EVERY - 1;
    if (periodic || collects(run)) {
        oracle_require(run, world_collect(run->world) == 0, "the collection before the run");
    }
    phases_mark(PHASE_COLLECT);
    pthread_mutex_lock(&S.lock);
    const ftf_program_t *p = run->prog;
    S.prog = p;
    S.n = p->nthreads;
    S.arrived = 0;
    S.current = -1;
    memcpy(S.order, p->priority, sizeof(S.order));
    for (int t = 0; t < S.n; t++) {
        S.state[t] = RUNNABLE;
        S.op[t] = -1;
    }
    S.step = S.turn_start = 0;
    S.next_sw = 0;
    S.next_switch = p->nswitches ? p->switches[0].gap : UINT64_MAX;
    S.clock_base = real_clock_ns(CLOCK_MONOTONIC);
    S.vjump = 0;
    S.nlog = S.nswitched = 0;
    sched_interleaving_clear();
    exe_base = report_exe_base();
    const char *trace = getenv("FTFUZZ_TRACE");
    if (trace && *trace) {
        if (!(S.trace = fopen(trace, "w"))) {
            fprintf(stderr, "ftfuzz: cannot write the trace to FTFUZZ_TRACE=%s\n", trace);
            abort();
        }
        setvbuf(S.trace, NULL, _IOLBF, 0); /* a finding aborts: keep every line */
    }
    atomic_store_explicit(&S.active, true, memory_order_release);
    pthread_mutex_unlock(&S.lock);
}

static void serial_thread_start(ftf_run_t *run, int tid)
{
    (void)run;
    pthread_mutex_lock(&S.lock);
    me = tid;
    /* The turn is first given once every worker is here: no thread runs CPython code
     * unscheduled, not even to attach. */
    int first = -1;
    if (++S.arrived == S.n) {
        S.current = first = S.order[0];
    }
    pthread_mutex_unlock(&S.lock);
    if (first >= 0) {
        runtime_futex_bump(&S.turns[first]);
    }
    await_turn();
}

static void serial_before_op(ftf_run_t *run, int tid, const ftf_op_t *op)
{
    (void)run, (void)op;
    S.op[tid] = ftf_here.op;
    sched_serial_point(NULL);
}

static void serial_thread_done(ftf_run_t *run, int tid)
{
    (void)run;
    pthread_mutex_lock(&S.lock);
    S.state[tid] = DONE;
    S.op[tid] = -1;
    int to = pick_next();
    bool blocked = false;
    for (int t = 0; t < S.n; t++) {
        blocked = blocked || S.state[t] == BLOCKED;
    }
    if (to < 0 && blocked) {
        deadlock();
    }
    S.current = to;
    S.turn_start = S.step;
    me = -1;
    if (to < 0) {
        atomic_store_explicit(&S.active, false, memory_order_release);
        if (S.trace) {
            fclose(S.trace);
            S.trace = NULL;
        }
    }
    pthread_mutex_unlock(&S.lock);
    if (to >= 0) {
        runtime_futex_bump(&S.turns[to]);
    }
}

void ftf_print_last_schedule(FILE *out)
{
    if (!S.prog) {
        return;
    }
    char turn[32] = "run complete";
    if (S.current >= 0) {
        snprintf(turn, sizeof(turn), "t%d has the turn", S.current);
    }
    fprintf(out, "==ftfuzz== serialized: %" PRIu64 " scheduling points passed; %s; "
                 "%d switches taken, %d distinct (where one thread stopped, the next one's op) "
                 "pairs:\n",
            S.step, turn, S.nswitched, sched_interleaving_pairs());
    const void *pcs[LOG_CAP];
    static char where[LOG_CAP][256];
    int npcs = 0;
    for (int i = 0; i < S.nlog; i++) {
        if (S.log[i].pc) {
            pcs[npcs++] = S.log[i].pc;
        }
    }
    report_symbolize(pcs, npcs, where);
    for (int i = 0, k = 0; i < S.nlog; i++) {
        const switch_rec_t *r = &S.log[i];
        const char *at = r->pc ? where[k++] : r->why[0] == 's' ? "the op's start" : "a wait";
        fprintf(out, "==ftfuzz==   point %-7" PRIu64 " t%d -> t%d (%s) in op %d at %s\n", r->step,
                r->from, r->to, r->why, r->op, at);
    }
    if (S.nswitched > S.nlog) {
        fprintf(out, "==ftfuzz==   ... %d more\n", S.nswitched - S.nlog);
    }
    for (int t = 0; t < S.n; t++) {
        fprintf(out, "==ftfuzz==   t%d %s, op %d\n", t, state_names[S.state[t]], S.op[t]);
    }
}

const ftf_sched_t sched_serial = {
    .name = "serial",
    .run_begin = serial_run_begin,
    .thread_start = serial_thread_start,
    .before_op = serial_before_op,
    .thread_done = serial_thread_done,
    .scheduled = serial_is_scheduled,
    .block = serial_block,
    .wake = serial_wake,
    .yield = serial_yield,
    .now_ns = serial_now_ns,
    .points = serial_points,
    .print_account = ftf_print_last_schedule,
};
