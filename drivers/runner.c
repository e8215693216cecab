/* Runs one program: sets up the world, hands each worker its ops under a scheduling
 * strategy, then audits at quiescence and tears down. */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "internal.h"

_Thread_local ftf_pos_t ftf_here = {-1, -1};

/* Free mode: all threads truly concurrent; the input only adds delays before ops. */
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

static void free_wait(ftf_run_t *run, const void *channel)
{
    (void)run, (void)channel;
    sched_yield();
}

const ftf_sched_t sched_free = {"free", NULL, NULL, free_before_op, NULL, free_wait, NULL};

const char *ftf_sched_points(void) { return FTF_SCHED_POINTS; }

static pthread_mutex_t barrier_lock = PTHREAD_MUTEX_INITIALIZER;

/* Releases the threads at a barrier once nobody else can arrive. Holds barrier_lock. */
static void barrier_release_if_complete(ftf_run_t *run)
{
    int arrived = atomic_load(&run->barrier_arrived);
    if (arrived > 0 && arrived + atomic_load(&run->threads_done) == run->prog->nthreads) {
        atomic_store(&run->barrier_arrived, 0);
        atomic_fetch_add(&run->barrier_gen, 1);
        if (run->sched->wake) {
            run->sched->wake(run, &run->barrier_gen);
        }
    }
}

void runner_barrier(ftf_run_t *run)
{
    pthread_mutex_lock(&barrier_lock);
    int gen = atomic_load(&run->barrier_gen);
    atomic_fetch_add(&run->barrier_arrived, 1);
    barrier_release_if_complete(run);
    pthread_mutex_unlock(&barrier_lock);
    /* Detached while waiting: a thread stopping the world must not wait for us. */
    Py_BEGIN_ALLOW_THREADS
    while (atomic_load(&run->barrier_gen) == gen) {
        run->sched->wait(run, &run->barrier_gen);
    }
    Py_END_ALLOW_THREADS
}

/* Detached: the scheduler's hook may hand the turn to a thread that must not wait for
 * this one to stop the world. */
static void thread_done(ftf_run_t *run, int tid)
{
    pthread_mutex_lock(&barrier_lock);
    atomic_fetch_add(&run->threads_done, 1);
    barrier_release_if_complete(run);
    pthread_mutex_unlock(&barrier_lock);
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
        watchdog_op_begin(tid, i);
        d->fn(run, d, op);
        watchdog_op_end(tid);
        if (PyErr_Occurred()) {
            runner_expect_error(run, d->name, NULL, NULL);
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
    runner_require(run, r != NULL, "draining refcount merges");
    Py_DECREF(r);
    PyGILState_Release(g);
}

static void drain_all(ftf_run_t *run)
{
    runtime_run_workers(run, run->prog->nthreads, drain_one);
    drain_one(run, -1);
}

PyObject *runner_value(ftf_run_t *run, const ftf_op_t *op)
{
    int v = ftf_arg_value(op->arg);
    return v < FTF_PINNED ? Py_NewRef(run->pinned[v]) : canary_new(run, false);
}

void runner_expect_error(ftf_run_t *run, const char *where, PyObject *expected,
                         PyObject *also_expected)
{
    (void)run;
    PyObject *exc = PyErr_GetRaisedException();
    if (!exc) {
        report_finding("driver-bug", "%s failed without an exception", where);
    }
    if ((expected && PyErr_GivenExceptionMatches(exc, expected)) ||
        (also_expected && PyErr_GivenExceptionMatches(exc, also_expected))) {
        Py_DECREF(exc);
        return;
    }
    PyObject *s = PyObject_Str(exc);
    const char *msg = s ? PyUnicode_AsUTF8(s) : "<unprintable>";
    report_finding("unexpected-exception", "%s raised %s: %s", where, Py_TYPE(exc)->tp_name,
                   msg ? msg : "<unprintable>");
}

void runner_require(ftf_run_t *run, int ok, const char *what)
{
    if (!ok) {
        runner_expect_error(run, what, NULL, NULL);
    }
}

static void run_program(const ftf_program_t *prog)
{
    static ftf_run_t run; /* one program at a time per process; too big for a stack */
    PyGILState_STATE g = PyGILState_Ensure();
    memset(&run, 0, sizeof(run));
    run.prog = prog;
    run.table = targets_table(prog->target);
    run.sched = prog->mode == FTF_MODE_SERIAL ? &sched_serial : &sched_free;
    run.world = runtime_world();
    report_set_run(&run);
    ftf_here = (ftf_pos_t){-1, -1};
    for (int i = 0; i < FTF_PINNED; i++) {
        run.pinned[i] = canary_new(&run, true);
    }
    if (run.sched->run_begin) {
        run.sched->run_begin(&run);
    }
    world_setup(run.world, &run);
    runtime_run_workers(&run, prog->nthreads, worker_body);
    drain_all(&run);
    oracle_audit(&run);
    atomic_store(&run.tearing_down, true);
    world_teardown(run.world);
    for (int i = 0; i < FTF_PINNED; i++) {
        Py_CLEAR(run.pinned[i]);
    }
    drain_all(&run);
    oracle_check_all_dead(&run);
    canary_release_all(&run);
    report_set_run(NULL);
    PyGILState_Release(g);
}

void ftf_program_run(const ftf_program_t *prog)
{
    ftf_init();
    run_program(prog);
}

void runner_warm_up(void)
{
    const ftf_table_t *t = targets_table(FTF_TARGET_MIXED);
    static ftf_program_t p;
    for (int tid = 0; tid < FTF_MAX_THREADS; tid++) {
        for (int attr = 0; attr < 4; attr++) {
            memset(&p, 0, sizeof(p));
            p.target = FTF_TARGET_MIXED;
            p.mode = FTF_MODE_SERIAL;
            p.nthreads = tid < FTF_MIN_THREADS ? FTF_MIN_THREADS : tid + 1;
            for (int i = 0; i < p.nthreads; i++) {
                p.priority[i] = (uint8_t)i;
            }
            /* Each object, attribute and name, pinned and fresh values, repeated: the
             * repeats warm the hot functions past their specialization thresholds. */
            int value = attr < 2 ? attr : 4 + attr;
            uint8_t arg = (uint8_t)(0x80 | value << 4 | attr << 2 | (attr & 1));
            for (int code = 1; code < t->nops; code++) {
                p.ops[p.nops++] = (ftf_op_t){(uint8_t)tid, (uint8_t)code, arg, 0};
            }
            run_program(&p);
        }
    }
}

int ftf_fuzz_one(ftf_target_t target, ftf_mode_t mode, const uint8_t *data, size_t size)
{
    ftf_program_t *prog = ftf_program_decode(target, mode, data, size);
    ftf_program_run(prog);
    ftf_program_free(prog);
    return 0;
}
