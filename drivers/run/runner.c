/* Runs one program: sets up the world, hands each worker its ops under a scheduling
 * strategy, then audits at quiescence and tears down. The top of the library: it starts
 * everything below once per process, and nothing below calls back into it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Detached: the scheduler's hook may hand the turn to a thread that must not wait for
 * this one to stop the world. */
static void thread_done(ftf_run_t *run, int tid)
{
    sched_barrier_thread_done(run);
    if (run->sched->thread_done) {
        run->sched->thread_done(run, tid);
    }
}

static void worker_body(ftf_run_t *run, int tid)
{
    const ftf_program_t *p = run->prog;
    ftf_here = (ftf_pos_t){tid, -1};
    if (run->sched->thread_start) {
        run->sched->thread_start(run, tid);
    }
    PyGILState_STATE g = PyGILState_Ensure();
    for (int i = 0; i < p->nops; i++) {
        const ftf_op_t *op = &p->ops[i];
        if (op->thread != tid) {
            continue;
        }
        ftf_here.op = i;
        run->sched->before_op(run, tid, op);
        const ftf_op_desc_t *d = run->table->ops[op->code];
        oracle_watchdog_op_begin(tid, i);
        ops_run(run, d, op);
        oracle_watchdog_op_end(tid);
        if (PyErr_Occurred()) {
            oracle_expect_error(run, d->name, NULL, NULL);
        }
        if (run->after_op) {
            run->after_op(run, tid, i);
        }
        ftf_here.op = -1;
    }
    PyGILState_Release(g);
    thread_done(run, tid);
}

/* A Python call checks the eval breaker, which merges the objects other threads queued
 * to this thread's biased-refcount queue: their deaths happen now, not at some later
 * input. */
static void drain_one(ftf_run_t *run, int tid)
{
    ftf_here = (ftf_pos_t){tid, -1};
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *r = PyObject_CallNoArgs(run->world->drain_fn);
    oracle_require(run, r != NULL, "draining refcount merges");
    Py_DECREF(r);
    PyGILState_Release(g);
}

static void drain_all(ftf_run_t *run)
{
    runtime_run_workers(run, run->prog->nthreads, drain_one);
    drain_one(run, -1);
}

static void world_must(ftf_run_t *run, int status)
{
    if (status < 0) {
        report_finding("driver-bug", "setting up the world failed: %s", run->world->error);
    }
}

/* Without check_history the run's operations are not recorded or checked for
 * linearizability: for programs of the driver's own making. */
static void run_program(const ftf_program_t *prog, void (*after_op)(ftf_run_t *, int, int),
                        bool check_history)
{
    static ftf_run_t run; /* one program at a time per process; too big for a stack */
    PyGILState_STATE g = PyGILState_Ensure();
    memset(&run, 0, sizeof(run));
    run.prog = prog;
    run.table = targets_table(prog->target);
    run.sched = prog->mode == FTF_MODE_SERIAL ? &sched_serial : &sched_free;
    run.world = runtime_world();
    run.after_op = after_op;
    sched_blocking_use(run.sched);
    report_set_run(&run);
    ftf_here = (ftf_pos_t){-1, -1};
    for (int i = 0; i < FTF_PINNED; i++) {
        run.pinned[i] = oracle_canary_new(&run, true);
    }
    oracle_waits_run_begin(&run);
    phases_mark(PHASE_RUN_BEGIN);
    if (run.sched->run_begin) {
        run.sched->run_begin(&run);
    }
    world_must(&run, world_setup(run.world, &run));
    oracle_history_begin(&run, check_history);
    phases_mark(PHASE_WORLD_SETUP);
    specialization_restore();
    phases_mark(PHASE_WARM_STATE);
    runtime_run_workers(&run, prog->nthreads, worker_body);
    phases_mark(PHASE_OPS);
    oracle_history_check(&run);
    phases_mark(PHASE_HISTORY_CHECK);
    drain_all(&run);
    phases_mark(PHASE_DRAIN);
    oracle_audit(&run);
    phases_mark(PHASE_AUDIT);
    atomic_store(&run.tearing_down, true);
    world_must(&run, world_teardown(run.world));
    for (int i = 0; i < FTF_PINNED; i++) {
        Py_CLEAR(run.pinned[i]);
    }
    drain_all(&run);
    oracle_check_all_dead(&run);
    oracle_canary_release_all(&run);
    oracle_waits_run_end();
    report_set_run(NULL);
    PyGILState_Release(g);
    phases_mark(PHASE_TEARDOWN);
}

/* Every op of the mixed table with the given operands on worker tid; from 3.14, one
 * call of a hot function per op runs its instruction 16 times (the repeat bit). With
 * `class_slots_only`, only the slot ops of the class pool, `times` times each. */
static void warm_program(ftf_program_t *p, int tid, int attr, bool class_slots_only, int times)
{
    const ftf_table_t *t = targets_table(FTF_TARGET_MIXED);
    memset(p, 0, sizeof(*p));
    p->target = FTF_TARGET_MIXED;
    p->mode = FTF_MODE_SERIAL;
    p->nthreads = tid < FTF_MIN_THREADS ? FTF_MIN_THREADS : tid + 1;
    for (int i = 0; i < p->nthreads; i++) {
        p->priority[i] = (uint8_t)i;
    }
    /* Each object, attribute and name, pinned values and a fresh one per store, repeated. */
    int value = attr < 2 ? attr : 4 + attr;
    uint8_t arg = (uint8_t)(0x80 | value << 4 | attr << 2 | (attr & 1));
    for (int k = 0; k < times; k++) {
        for (int code = 1; code < t->nops && p->nops < FTF_MAX_OPS; code++) {
            /* A collection warms nothing of a worker's, and 32 of them were a third of
             * the warm-up. */
            if (t->ops[code]->family == FTF_FAMILY_COLLECT) {
                continue;
            }
            if (class_slots_only &&
                (t->ops[code]->family != FTF_FAMILY_ATTR || t->ops[code]->pool != FTF_POOL_CLASS)) {
                continue;
            }
            p->ops[p->nops++] = (ftf_op_t){(uint8_t)tid, (uint8_t)code, arg, 0};
        }
    }
    if (class_slots_only) {
        return;
    }
    /* Each pool's attribute read while empty: its AttributeError reads the dicts of the
     * object's type and of the exception's, which a first read from a thread that does
     * not own them marks shared, for good (with a lock no later read takes). */
    static const char *const raising[] = {"slots.delete-attr",   "slots.load-attr",
                                          "members.delete-attr", "members.load-attr",
                                          "class.delete-attr",   "class.load-attr"};
    for (size_t i = 0; i < sizeof(raising) / sizeof(raising[0]); i++) {
        int code = targets_find_op(FTF_TARGET_MIXED, raising[i]);
        p->ops[p->nops++] = (ftf_op_t){(uint8_t)tid, (uint8_t)code, arg & 0x0f, 0};
    }
}

/* Runs every op of the mixed table on each worker, one thread at a time, so that the
 * objects that outlive an input (dicts marked shared on first foreign read, caches,
 * warmed and, from 3.14, specialized code) are already in the state later inputs find
 * them in: an input then takes the same path in a fresh process as deep into a fuzzing
 * session, and a crash found there replays.
 *
 * Where the free-threaded build specializes (3.14+), a second pass runs only the class
 * pool's slot ops, four times each: the first pass's class ops and teardowns gave the
 * classes new type versions after their slot instructions specialized, so those would
 * miss their type guard in every input. Four calls of 16 iterations pass the 52 misses
 * after which CPython specializes an instruction again, now for the versions the inputs
 * start with.
 *
 * One thread at a time runs ops the driver chose, so a linearizability check could only
 * find a fault of the check itself, which every input's check finds as well: it is left
 * out here, where it was a tenth of the fuzzer's start-up (14 of 150 ms on 3.13.15). */
static void warm_up(void)
{
    static ftf_program_t p;
    int passes = specialization_supported() ? 2 : 1;
    for (int pass = 0; pass < passes; pass++) {
        for (int tid = 0; tid < FTF_MAX_THREADS; tid++) {
            for (int attr = 0; attr < 4; attr++) {
                warm_program(&p, tid, attr, pass == 1, pass == 1 ? 4 : 1);
                run_program(&p, NULL, false);
            }
        }
    }
}

/* Everything alive after the warm-up lives as long as the process: frozen, collections
 * skip it (a collection on 3.14.7 takes a third of the time), and each gc.collect op and
 * each serialized run that has one pays for a collection. */
static void freeze_survivors(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *r = gc ? PyObject_CallMethod(gc, "freeze", NULL) : NULL;
    if (!r) {
        PyErr_Print();
        fprintf(stderr, "ftfuzz: cannot freeze the objects that outlive every input (gc.freeze)\n");
        abort();
    }
    Py_DECREF(r);
    Py_DECREF(gc);
}

static void init_once(void)
{
    sched_blocking_init();
    report_install_hooks();
    runtime_start();
    PyGILState_STATE g = PyGILState_Ensure();
    if (oracle_canary_type_ready() < 0) {
        PyErr_Print();
        fprintf(stderr, "ftfuzz: cannot make the canary type\n");
        abort();
    }
    PyGILState_Release(g);
    oracle_watchdog_start();
    warm_up();
    g = PyGILState_Ensure();
    specialization_snapshot(runtime_world());
    freeze_survivors();
    PyGILState_Release(g);
}

void ftf_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}

void runner_run(const ftf_program_t *prog, void (*after_op)(ftf_run_t *, int, int))
{
    ftf_init();
    run_program(prog, after_op, true);
}

void ftf_program_run(const ftf_program_t *prog) { runner_run(prog, NULL); }

int ftf_fuzz_one(ftf_target_t target, ftf_mode_t mode, const uint8_t *data, size_t size)
{
    phases_restart(); /* what ran since the last input was the engine's */
    ftf_program_t *prog = ftf_program_decode(target, mode, data, size);
    phases_mark(PHASE_DECODE);
    ftf_program_run(prog);
    ftf_program_free(prog);
    return 0;
}
