/* Ops that break the oracles' rules on purpose, so the tests can prove every oracle
 * able to fail. Only the selftest target reaches them. */
#include <time.h>

/* PyEvent, the wait CPython's own pollers use (stop-the-world waits on one in 1 ms steps). */
#define Py_BUILD_CORE 1
#include <Python.h>
#include "internal/pycore_lock.h"

#include "internal.h"

/* A scheduling point of the test ops' own, between two steps that must not be split:
 * the serialized scheduler can switch here at either depth. */
__attribute__((noinline)) static void window(void) { sched_serial_point(__builtin_return_address(0)); }

/* A stand-in for a lock-free fast path, which the wait oracle's tests name in
 * FTFUZZ_NO_WAIT_IN (its own symbol, so the policy can find it). Given a value to drop,
 * it only releases that, as a lock-free store releases the old value; otherwise it takes
 * the object's lock after all. */
__attribute__((noinline)) void ops_selftest_fast_path(PyObject *o, PyObject *drop);
__attribute__((noinline)) void ops_selftest_fast_path(PyObject *o, PyObject *drop)
{
    if (drop) {
        Py_DECREF(drop);
        return;
    }
    Py_BEGIN_CRITICAL_SECTION(o);
    Py_END_CRITICAL_SECTION();
}

/* A value whose release waits: the destructor of a capsule that holds the object. */
static void release_takes_lock(PyObject *capsule)
{
    PyObject *o = PyCapsule_GetPointer(capsule, NULL);
    Py_BEGIN_CRITICAL_SECTION(o);
    Py_END_CRITICAL_SECTION();
}

/* A livelock's stand-in: a loop that never blocks and calls out of itself, so samples of
 * its stack differ below ops_selftest_spin and agree above it. Its own symbols, so the
 * watchdog can name the loop. */
static inline uint64_t lcg_step(uint64_t x) { return x * 6364136223846793005u + 1; }
__attribute__((noinline)) static uint64_t spin_step(uint64_t x) { return lcg_step(x); }
__attribute__((noinline)) static void ops_selftest_spin(void)
{
    int64_t end = runtime_now_ns() + (int64_t)oracle_watchdog_bound_ms() * 10 * 1000000;
    volatile uint64_t x = 0;
    /* Mostly in the loop, not in the clock: a sample inside it would pass for the loop.
     * Mostly in the loop's own body, not in the call: with a call per step, on a loaded
     * machine all 16 samples landed in spin_step in 3 of 100 runs, and the loop was named
     * after it. */
    while (runtime_now_ns() < end) {
        for (int i = 0; i < 100000; i++) {
            for (int k = 0; k < 32; k++) {
                x = lcg_step(x);
            }
            x = spin_step(x);
        }
    }
}

/* A poller's stand-in, as a stop-the-world waits for a thread that never reaches a safe
 * point: timed waits on an event nobody sets, from two call sites in turn, so samples of
 * its stack differ though it only ever waits. Steps shorter than the samples' 1 ms, so the
 * samples cannot keep meeting the same place. */
static void ops_selftest_poll(void)
{
    PyEvent never = {0};
    int64_t end = runtime_now_ns() + (int64_t)oracle_watchdog_bound_ms() * 10 * 1000000;
    while (runtime_now_ns() < end) {
        PyEvent_WaitTimed(&never, 200 * 1000, 0);
        PyEvent_WaitTimed(&never, 200 * 1000, 0);
    }
}

void ops_selftest(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    ftf_world_t *w = run->world;
    PyObject *pinned = run->pinned[ftf_arg_value(op->arg) % FTF_PINNED];
    switch (d->variant) {
    case SELFTEST_OVER_RELEASE:
        Py_DECREF(pinned);
        break;
    case SELFTEST_LEAK:
        Py_INCREF(pinned);
        break;
    case SELFTEST_READ_FREED: {
        int obj = ftf_arg_obj(op->arg) % FTF_POOL_OBJS;
        int attr = ftf_arg_attr(op->arg) % w->nattrs[FTF_POOL_SLOTS];
        PyObject *o = w->objs[FTF_POOL_SLOTS][obj];
        PyObject *name = w->attr_names[FTF_POOL_SLOTS][attr];
        PyObject *fresh = oracle_canary_new(run, false);
        uint32_t t0 = oracle_history_now();
        oracle_require(run, PyObject_SetAttr(o, name, fresh) == 0, d->name);
        oracle_history_attr(FTF_POOL_SLOTS, obj, attr, ORACLE_OP_STORE, fresh, ORACLE_OK, 0, t0,
                            oracle_history_now());
        Py_DECREF(fresh);
        /* A reader that loads the slot with no reference taken, loses the race to a
         * writer that empties the slot, and then increfs what it loaded. */
        PyObject *loaded = *(PyObject **)((char *)o + w->offsets[FTF_POOL_SLOTS][attr]);
        t0 = oracle_history_now();
        oracle_require(run, PyObject_DelAttr(o, name) == 0, d->name);
        oracle_history_attr(FTF_POOL_SLOTS, obj, attr, ORACLE_OP_DELETE, NULL, ORACLE_OK, 0, t0,
                            oracle_history_now());
        Py_INCREF(loaded);
        char where[48];
        snprintf(where, sizeof(where), "%s obj%d.%s", d->name, obj,
                 targets_attr_name(FTF_POOL_SLOTS, attr));
        oracle_canary_check_observed(run, loaded, where);
        break;
    }
    case SELFTEST_RACY_READ: {
        /* The reader of SELFTEST_READ_FREED without the writer: it loses the race only
         * when another thread replaces the value inside the window. */
        int obj = ftf_arg_obj(op->arg) % FTF_POOL_OBJS;
        int attr = ftf_arg_attr(op->arg) % w->nattrs[FTF_POOL_SLOTS];
        PyObject *o = w->objs[FTF_POOL_SLOTS][obj];
        PyObject *loaded = *(PyObject **)((char *)o + w->offsets[FTF_POOL_SLOTS][attr]);
        window();
        Py_XINCREF(loaded);
        char where[48];
        snprintf(where, sizeof(where), "%s obj%d.%s", d->name, obj,
                 targets_attr_name(FTF_POOL_SLOTS, attr));
        oracle_canary_check_observed(run, loaded, where);
        Py_XDECREF(loaded);
        break;
    }
    case SELFTEST_HOLD_LOCK: {
        /* Holds the object's critical section across a scheduling point, so another
         * thread's store blocks on it and must hand the turn back. */
        PyObject *o = w->objs[FTF_POOL_SLOTS][ftf_arg_obj(op->arg) % FTF_POOL_OBJS];
        Py_BEGIN_CRITICAL_SECTION(o);
        window();
        Py_END_CRITICAL_SECTION();
        break;
    }
    case SELFTEST_STALE_LOAD: {
        /* A reader that serves a cached value: it reads before a scheduling point and
         * reports that read as one that began after it. */
        int obj = ftf_arg_obj(op->arg) % FTF_POOL_OBJS;
        int attr = ftf_arg_attr(op->arg) % w->nattrs[FTF_POOL_SLOTS];
        PyObject *o = w->objs[FTF_POOL_SLOTS][obj];
        PyObject *cached = PyObject_GetAttr(o, w->attr_names[FTF_POOL_SLOTS][attr]);
        if (!cached && PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear(); /* an empty slot: no value to serve stale */
            break;
        }
        oracle_require(run, cached != NULL, d->name);
        window();
        uint32_t t0 = oracle_history_now();
        PyObject *fresh = PyObject_GetAttr(o, w->attr_names[FTF_POOL_SLOTS][attr]);
        oracle_require(run, fresh != NULL, d->name);
        oracle_history_attr(FTF_POOL_SLOTS, obj, attr, ORACLE_OP_LOAD, cached, ORACLE_OK, 0, t0,
                            oracle_history_now());
        Py_DECREF(fresh);
        Py_DECREF(cached);
        break;
    }
    case SELFTEST_STORE_RAISES: {
        int obj = ftf_arg_obj(op->arg) % FTF_POOL_OBJS;
        int attr = ftf_arg_attr(op->arg) % w->nattrs[FTF_POOL_SLOTS];
        PyObject *v = ops_value(run, op);
        uint32_t t0 = oracle_history_now();
        oracle_require(run, PyObject_SetAttr(w->objs[FTF_POOL_SLOTS][obj], w->attr_names[FTF_POOL_SLOTS][attr],
                                             v) == 0, d->name);
        oracle_history_attr(FTF_POOL_SLOTS, obj, attr, ORACLE_OP_STORE, v, ORACLE_RAISED, 0, t0,
                            oracle_history_now());
        Py_DECREF(v);
        break;
    }
    case SELFTEST_DELETE_NOTHING:
    case SELFTEST_DELETE_KEEP: {
        uint32_t t0 = oracle_history_now();
        oracle_history_attr(FTF_POOL_SLOTS, ftf_arg_obj(op->arg) % FTF_POOL_OBJS,
                            ftf_arg_attr(op->arg) % w->nattrs[FTF_POOL_SLOTS], ORACLE_OP_DELETE, NULL,
                            d->variant == SELFTEST_DELETE_NOTHING ? ORACLE_RAISED : ORACLE_OK, 0, t0,
                            oracle_history_now());
        break;
    }
    case SELFTEST_TORN_CLASS_LOAD: {
        /* obj.k in two steps that are each atomic but not together: the class, then its
         * k, as a lookup that does not guard the pair would. Detached in between, so a
         * __class__ assignment (which stops the world) can land there. */
        int obj = ftf_arg_obj(op->arg) % FTF_POOL_OBJS;
        uint32_t t0 = oracle_history_now();
        PyTypeObject *cls = Py_TYPE(w->objs[FTF_POOL_CLASS][obj]);
        Py_BEGIN_ALLOW_THREADS
        window();
        Py_END_ALLOW_THREADS
        PyObject *k = PyDict_GetItemWithError(cls->tp_dict, w->key_k);
        oracle_history_class_view(obj, 0, ORACLE_OP_LOAD, k, k ? ORACLE_OK : ORACLE_RAISED, 0, t0,
                                  oracle_history_now());
        break;
    }
    case SELFTEST_WAIT_IN_FAST_PATH:
        ops_selftest_fast_path(w->objs[FTF_POOL_SLOTS][ftf_arg_obj(op->arg) % FTF_POOL_OBJS], NULL);
        break;
    case SELFTEST_RELEASE_IN_FAST_PATH: {
        PyObject *o = w->objs[FTF_POOL_SLOTS][ftf_arg_obj(op->arg) % FTF_POOL_OBJS];
        PyObject *drop = PyCapsule_New(o, NULL, release_takes_lock);
        oracle_require(run, drop != NULL, d->name);
        ops_selftest_fast_path(o, drop);
        break;
    }
    case SELFTEST_STALL: {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        Py_BEGIN_ALLOW_THREADS
        for (int i = 0; i < oracle_watchdog_bound_ms() * 10; i++) {
            nanosleep(&ts, NULL);
        }
        Py_END_ALLOW_THREADS
        break;
    }
    case SELFTEST_SPIN:
        Py_BEGIN_ALLOW_THREADS
        ops_selftest_spin();
        Py_END_ALLOW_THREADS
        break;
    case SELFTEST_POLL:
        Py_BEGIN_ALLOW_THREADS
        ops_selftest_poll();
        Py_END_ALLOW_THREADS
        break;
    }
}
