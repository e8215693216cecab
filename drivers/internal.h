/* Private declarations shared by the files of drivers/, one section per folder, in the
 * order of the layers: a file calls only into its own folder and the sections above
 * its own (scripts/drivers-calls checks the built objects). Above everything else
 * (report, oracles, ...) a name starts with its folder's prefix; core's files are the
 * vocabulary all the rest shares, and each names its own (runtime_, schedule_, ...). */
#ifndef FTFUZZ_INTERNAL_H
#define FTFUZZ_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "ftfuzz.h"

#if !defined(Py_GIL_DISABLED)
#error "ftfuzz needs a free-threaded CPython (configure --disable-gil)"
#endif

#define FTF_MAX_THREADS 8
#define FTF_MIN_THREADS 2
#define FTF_MAX_OPS 64
#define FTF_PINNED 4        /* canaries c0..c3, referenced by the drivers all input long */
#define FTF_REPEAT 16       /* iterations of an op whose repeat bit is set */
/* pinned + at most one fresh canary per store */
#define FTF_MAX_CANARIES (FTF_PINNED + FTF_MAX_OPS * FTF_REPEAT)

/* ---- core/schedule.c: programs as bytes and as text ------------------------------- */

typedef struct {
    uint8_t thread; /* < nthreads */
    uint8_t code;   /* index into the target's op table */
    uint8_t arg;    /* operand fields, see ftf_arg_* */
    uint8_t delay;  /* what the thread does before the op, see ftf_delay_t */
} ftf_op_t;

#define FTF_MAX_SWITCHES 16

/* A programmed switch of the serialized scheduler: after `gap` more scheduling points,
 * thread `thread` (or the next runnable one after it) takes the turn and the top
 * priority. */
typedef struct {
    uint16_t gap;
    uint8_t thread;
} ftf_switch_t;

struct ftf_program {
    ftf_target_t target;
    ftf_mode_t mode;
    int nthreads;
    int nops;
    ftf_op_t ops[FTF_MAX_OPS]; /* program order; ops[i].thread runs it */
    /* serialized mode only */
    uint8_t priority[FTF_MAX_THREADS]; /* a permutation of the threads, highest first */
    int nswitches;
    ftf_switch_t switches[FTF_MAX_SWITCHES];
};

/* Operand fields of ftf_op_t.arg; an op uses only the fields its descriptor names. */
static inline int ftf_arg_obj(uint8_t arg) { return arg & 3; }
static inline int ftf_arg_attr(uint8_t arg) { return (arg >> 2) & 3; }
/* 0-3: pinned canary c0..c3; 4-5 ("new"): one fresh canary for all the op's stores;
 * 6-7 ("new-each"): a fresh canary per store. */
static inline int ftf_arg_value(uint8_t arg) { return (arg >> 4) & 7; }
static inline bool ftf_arg_value_each(uint8_t arg) { return ftf_arg_value(arg) >= 6; }
static inline int ftf_arg_repeat(uint8_t arg) { return (arg & 0x80) ? FTF_REPEAT : 1; }

typedef enum {
    FTF_DELAY_NONE,  /* run the op at once */
    FTF_DELAY_SPIN,  /* busy-wait 2^e pause iterations, e = delay >> 2 (0..15); stays attached */
    FTF_DELAY_YIELD, /* sched_yield() once: lets another thread on this core run */
    FTF_DELAY_SLEEP, /* sleep e microseconds, e = delay >> 2 (0..63) */
} ftf_delay_t;

/* One op as "name operands delay", the way ftf_program_print writes it. */
void schedule_format_op(const ftf_program_t *p, int i, char *buf, size_t len);
/* FTFUZZ_AVOID, the pattern of the ops that decoding leaves out, or NULL. */
const char *schedule_avoided(void);

/* ---- core/targets.c: the op tables (what each op byte means, not how it runs) -------- */

typedef struct ftf_run ftf_run_t;
typedef struct ftf_op_desc ftf_op_desc_t;

/* Which objects an op's obj/attr fields index. */
typedef enum {
    FTF_POOL_NONE,
    FTF_POOL_SLOTS,   /* obj0, obj1: instances of Slots (__slots__ a, b) */
    FTF_POOL_MEMBERS, /* obj0, obj1: instances of the C type Members (obj, objex) */
    FTF_POOL_CLASS,   /* obj0, obj1: instances of A/B/C (same __slots__ a, b) */
    FTF_POOL_GLOBALS, /* names G0 G1 (globals), B0 (builtins), S0 (both: shadowed) */
    FTF_POOL_COUNT
} ftf_pool_t;

enum {
    FTF_USES_OBJ = 1,    /* obj field: which instance of the pool */
    FTF_USES_ATTR = 2,   /* attr field: which attribute (or global name) */
    FTF_USES_VALUE = 4,  /* value field: pinned canary c0..c3 or a fresh one */
    FTF_USES_REPEAT = 8, /* repeat bit: the op loops FTF_REPEAT times */
    FTF_USES_CLASS = 16, /* attr field names a class of the class pool (A, B, C) */
};

/* Which ops/ file runs an op: ops_run dispatches on it. */
typedef enum {
    FTF_FAMILY_BARRIER,     /* ops_barrier: wait for every other thread */
    FTF_FAMILY_ATTR,        /* ops_attr: slot and member store/load/delete, per path */
    FTF_FAMILY_MEMBER_INIT, /* ops_member_init: a C type storing its own member */
    FTF_FAMILY_SET_CLASS,   /* ops_set_class: __class__ assignment */
    FTF_FAMILY_CLASS_ATTR,  /* ops_class_attr: a class attribute store/load/delete */
    FTF_FAMILY_GLOBALS,     /* ops_globals: LOAD_GLOBAL and globals/builtins changes */
    FTF_FAMILY_SELFTEST,    /* ops_selftest: breaks an oracle's rule on purpose */
    FTF_FAMILY_COLLECT,     /* ops_collect: a garbage collection, where the schedule puts it */
} ftf_family_t;

struct ftf_op_desc {
    const char *name; /* "slots.store-bytecode": unique across all targets */
    ftf_family_t family;
    ftf_pool_t pool;
    unsigned uses; /* FTF_USES_* */
    int variant;   /* per-fn meaning: the attribute path of ops_attr.c */
};

typedef struct {
    const ftf_op_desc_t *const *ops;
    int nops;
} ftf_table_t;

#define FTF_POOL_OBJS 2 /* instances per pool: obj0, obj1 */
#define FTF_CLASSES 3   /* A, B, C: layout-compatible classes of the class pool */

const ftf_table_t *targets_table(ftf_target_t target);
int targets_nattrs(ftf_pool_t pool);
const char *targets_attr_name(ftf_pool_t pool, int i);
const char *targets_class_name(int i);
/* Finds an op by name in the target's table; -1 if it is not there. */
int targets_find_op(ftf_target_t target, const char *name);

/* ---- core/world.c: the Python objects the ops race on ---------------------------- */

typedef struct {
    char name[40];      /* "slots obj0.a", "globals G0", "A.k" */
    PyObject **cell;    /* where the reference lives (slot memory) or NULL for dicts */
    PyObject *dict;     /* the dict holding it under key (when cell is NULL) */
    PyObject *key;
    int global; /* a globals or builtins entry: the name's index (G0 ...); else -1 */
} ftf_holder_t;

typedef struct {
    /* made once per process */
    PyObject *ns;             /* module namespace of the attribute functions */
    PyObject *gns, *bns;      /* globals and builtins of the LOAD_GLOBAL functions */
    PyObject *gns_clean, *bns_clean; /* copies of them without the inputs' names */
    PyObject *slots_type, *members_type;
    PyObject *classes[FTF_CLASSES]; /* A, B, C */
    PyObject *class_dicts[FTF_CLASSES];         /* copies of their dicts as each input starts */
    unsigned int class_versions[FTF_CLASSES];   /* and their type versions */
    PyObject *attr_names[FTF_POOL_COUNT][4];
    int nattrs[FTF_POOL_COUNT];
    Py_ssize_t offsets[FTF_POOL_COUNT][4]; /* slot offsets of the attribute pools */
    PyMemberDef *memberdefs[FTF_POOL_COUNT][4]; /* what PyMember_GetOne/SetOne are given */
    PyObject *churn_keys[FTF_REPEAT];
    PyObject *store_fn[FTF_POOL_COUNT][4], *load_fn[FTF_POOL_COUNT][4], *delete_fn[FTF_POOL_COUNT][4];
    PyObject *load_class_attr_fn; /* o.k through bytecode */
    PyObject *drain_fn;           /* calling it runs the caller's pending refcount merges */
    PyObject *collect_fn;         /* gc.collect: world_collect */
    PyObject *key_k, *key_class;
    const char *error; /* what the last failing world_* call could not do */
    /* made again for every input */
    PyObject *objs[FTF_POOL_COUNT][FTF_POOL_OBJS];
} ftf_world_t;

/* Each returns 0, or -1 with what failed in w->error (and the Python error printed). */
int world_init(ftf_world_t *w);
/* Fresh instances and initial bindings, values taken from run's pinned canaries. */
int world_setup(ftf_world_t *w, ftf_run_t *run);
/* A full collection, even while automatic ones are off (gc.collect); -1 with the
 * exception set if it raised. Attached. */
int world_collect(ftf_world_t *w);
/* Drops every reference the world holds to this input's values. */
int world_teardown(ftf_world_t *w);
/* Every place that can hold a value; returns the count written (at most cap). */
int world_holders(ftf_world_t *w, ftf_holder_t *out, int cap);
/* The slot or member cell that points at v, or NULL. Reads pointers only: safe to call
 * from a dealloc while other threads run. */
const char *world_find_cell(ftf_world_t *w, PyObject *v);
/* What a PyMutex belongs to ("globals of the fuzz module", "slots obj1", "class A"),
 * else "lock at 0x...". Compares addresses only. */
void world_describe_lock(ftf_world_t *w, const void *lock, char *buf, size_t len);

/* ---- core/runtime.c: the interpreter, the parked workers, where each thread is ---- */

/* Where a thread is: the op being run. tid -1 is the driving thread (setup, audit). */
typedef struct {
    int tid;
    int op; /* index into program ops, -1 between ops */
} ftf_pos_t;

extern _Thread_local ftf_pos_t ftf_here;

/* Starts the interpreter (with world_init) and the workers; call once, with nothing
 * else running. Returns with the calling thread detached. */
void runtime_start(void);
ftf_world_t *runtime_world(void);
/* The pthread of worker tid, once it has started: false before. */
bool runtime_worker(int tid, pthread_t *out);
/* Worker tid's thread state (parked, or running a run's ops). */
PyThreadState *runtime_worker_tstate(int tid);
/* Runs fn(run, tid) on workers 0..n-1, detached (fn attaches when it needs the
 * interpreter); returns when all are done. */
void runtime_run_workers(ftf_run_t *run, int n, void (*fn)(ftf_run_t *, int));
int64_t runtime_now_ns(void);
/* A word one thread sleeps on until another bumps it, to hand it work or a turn: wait
 * returns once *word is no longer `seen`; bump adds one and wakes the sleeper. Not
 * semaphores: this program's sem_wait is the scheduler's (sched_blocking.c). */
void runtime_futex_wait(atomic_uint *word, unsigned seen);
void runtime_futex_bump(atomic_uint *word);

/* ---- core/specialization.c: each worker's form of an op's hot instruction ---------- */

/* Whether this CPython's free-threaded build specializes (3.14+), from its own header. */
bool specialization_supported(void);
/* The op's hot instruction ("STORE_ATTR", "LOAD_GLOBAL"; attr picks the attribute or
 * name), or NULL for an op that runs no bytecode of its own. Attached. */
const char *specialization_base(ftf_world_t *w, const ftf_op_desc_t *d, int attr);
/* Whether CPython has specialized forms of that instruction at all (DELETE_ATTR has
 * none). */
bool specialization_exists(const char *base);
/* The form it has now on tstate's own copy of the bytecode: "STORE_ATTR_SLOT", the base
 * name when generic, "(never run)" when that thread has no copy yet; NULL as above.
 * Attached; callable on a worker between its ops once specialization_base has seen
 * the op (it runs Python code the first time). */
const char *specialization_form(ftf_world_t *w, const ftf_op_desc_t *d, int attr,
                                PyThreadState *tstate);

/* From 3.14 an input leaves the world's functions specialized, counted down and cached
 * its own way on each worker, and the next input would start from there: a finding deep
 * in a session would take another path in a fresh process. So the warm-up's bytecode
 * (forms, counters, caches) is copied once per worker and put back before every run,
 * while the workers are parked. No-ops before 3.14. */
void specialization_snapshot(ftf_world_t *w);
void specialization_restore(void);

/* The adaptive counter of that instruction on tstate's copy, or -1. A specialized
 * instruction counts it down on each execution that misses its guard (and runs the
 * generic code); at zero it specializes again and the counter restarts higher. */
int specialization_counter(ftf_world_t *w, const ftf_op_desc_t *d, int attr, PyThreadState *tstate);

/* ---- core/interp_state.c: what the serialized scheduler reads and resets inside CPython */

/* Empties the type attribute cache and every thread's free lists, as a fresh process
 * has them. Attached, with the workers parked. */
void interp_empty_caches(void);
/* True while one thread has stopped the interpreter's world (a collection, a __class__
 * assignment): then only that thread runs. */
const bool *interp_world_stopped_flag(void);
/* The entries a dict has used, deleted ones included: what its lookups probe past. */
Py_ssize_t interp_dict_entries(PyObject *dict);

/* ---- core/symbols.c: function names of code addresses, from the executable -------- */

/* The function containing code address pc, or NULL (for a return address, pass pc - 1). */
const char *symbols_function(const void *pc);
/* True if function name fn (may be NULL) contains any of the n parts. */
bool symbols_named_like(const char *fn, const char *const *parts, size_t n);
/* True if fn is a frame of a parked thread: every PyMutex, PyEvent and stop-the-world
 * wait parks on a semaphore, and the sanitizer intercepts the libc calls beneath it. */
bool symbols_parks(const char *fn);
/* Every [lo, hi) address range of functions called name (a static name may be several);
 * returns how many there are, writing at most cap. */
int symbols_ranges(const char *name, uintptr_t (*out)[2], int cap);

/* ---- core/phases.c: where a run's time goes ------------------------------------------ */

typedef enum {
    PHASE_DECODE, PHASE_RUN_BEGIN, PHASE_CACHES, PHASE_COLLECT, PHASE_WORLD_SETUP,
    PHASE_WARM_STATE, PHASE_OPS, PHASE_HISTORY_CHECK, PHASE_DRAIN, PHASE_AUDIT, PHASE_TEARDOWN,
    PHASE_COUNT
} ftf_phase_t;

/* Turns the marks on; until then they cost nothing. */
void phases_enable(void);
/* A new input starts: the time since the last mark belongs to no phase. */
void phases_restart(void);
/* The time since the previous mark belongs to phase done. */
void phases_mark(ftf_phase_t done);
int64_t phases_ns(ftf_phase_t phase);
const char *phases_name(ftf_phase_t phase);

/* ---- core: a run, and the scheduler interface it holds ------------------------------ */

typedef struct {
    PyObject *all[FTF_MAX_CANARIES];
    atomic_int count;
} ftf_canaries_t;

/* A scheduling strategy: what happens around each op and how a thread waits for
 * another. Free mode is one; the serialized scheduler is another, plugging in without
 * touching the ops. The runner holds one; the barrier, sched_blocking.c and the report
 * reach the strategy only through it. Hooks marked "detached" run without the thread
 * attached; a NULL hook does nothing (free mode has no blocking of its own). */
typedef struct {
    const char *name;
    void (*run_begin)(ftf_run_t *run);                 /* driving thread, before workers */
    void (*thread_start)(ftf_run_t *run, int tid);     /* detached, before the first op */
    void (*before_op)(ftf_run_t *run, int tid, const ftf_op_t *op);
    void (*thread_done)(ftf_run_t *run, int tid);      /* detached, after the last op */
    /* Whether the calling thread is one this strategy runs: then it blocks, yields and
     * reads the clock through the hooks below. */
    bool (*scheduled)(void);
    /* Blocks until wake(channel) or until now_ns() reaches deadline_ns (INT64_MAX:
     * never); false when the deadline passed. */
    bool (*block)(const void *channel, int64_t deadline_ns);
    void (*wake)(const void *channel); /* from any thread */
    void (*yield)(void);
    int64_t (*now_ns)(void);
    /* Scheduling points passed in this run (NULL: the strategy has none). */
    uint64_t (*points)(void);
    /* What the strategy adds to a finding's report (the serialized switches). */
    void (*print_account)(FILE *out);
} ftf_sched_t;

struct ftf_run {
    const ftf_program_t *prog;
    const ftf_table_t *table;
    const ftf_sched_t *sched;
    ftf_world_t *world;
    ftf_canaries_t canaries;
    PyObject *pinned[FTF_PINNED];
    atomic_bool tearing_down;
    /* barrier ops: a thread waits until every other thread is at a barrier or done */
    atomic_int barrier_arrived, threads_done, barrier_gen;
    atomic_int threads_started; /* free mode: released once all are here */
    /* Called by a worker after each of its ops, attached (NULL: nobody watches). */
    void (*after_op)(ftf_run_t *run, int tid, int op);
};

/* ---- report/: how a finding is told, beneath everything that finds one -------------- */

/* The run a finding belongs to: the report prints its program and asks its scheduler
 * for its account; NULL between runs. */

/* Prints the finding, the program and how to replay it, then aborts. Only the first
 * finding of a process is printed; a second finder waits for the abort. */
_Noreturn void report_finding(const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The watchdog's finding: thread t has been in ops[t] for ms[t] (-1: between ops), over
 * the bound of bound_ms. Names the culprit, prints every worker's stack. */
_Noreturn void report_stuck(const int64_t *ms, const int *ops, int bound_ms);
void report_install_hooks(void);
/* backtrace() for a worker outside the stack signal's handler. Under ASan it allocates
 * under a spin lock the handler's own backtrace() takes: a sample landing inside it
 * spun forever (a fuzz_selftest campaign on 3.14.7 hung so, in the wait oracle's
 * backtrace), so the signal waits until it returns. */
int report_backtrace(void **pcs, int max);
/* "Objects/structmember.c:87 PyMember_GetOne" for each code address (at worst
 * "exe+0x1234"), using llvm-symbolizer (FTFUZZ_SYMBOLIZER overrides where it is). */
void report_symbolize(const void *const *pcs, int n, char (*out)[256]);
/* Where this executable is loaded: code addresses minus it are the offsets traces and
 * llvm-symbolizer use. */
uintptr_t report_exe_base(void);
void report_set_run(const ftf_run_t *run);

/* ---- oracles/: what decides that a run went wrong -------------------------------- */

/* oracle_canary.c: values that report their own death. */

/* A new canary with one reference, owned by the caller. A pinned one's reference is the
 * drivers' own (run->pinned), kept until teardown, so its death before then is an
 * over-release. */
PyObject *oracle_canary_new(ftf_run_t *run, bool pinned);
/* Checks a value an op observed at `where`: NULL and None pass, a live canary of this
 * run passes, anything else is a finding. */
void oracle_canary_check_observed(ftf_run_t *run, PyObject *v, const char *where);
int oracle_canary_id(PyObject *v);         /* -1 if v is not a canary */
bool oracle_canary_is_alive(PyObject *v);
bool oracle_canary_is_pinned(PyObject *v);
void oracle_canary_describe_death(PyObject *v, char *buf, size_t len);
/* Frees the memory of every canary of the run; all must be dead. */
void oracle_canary_release_all(ftf_run_t *run);
int oracle_canary_type_ready(void);

/* oracle_audit.c: reference counts, at quiescence and after teardown. *//* At quiescence: each live canary's refcount equals its holders (+1 if pinned). */
void oracle_audit(ftf_run_t *run);
/* After teardown: every canary must be dead, or a reference leaked. */
void oracle_check_all_dead(ftf_run_t *run);

/* oracle_watchdog.c: an op that does not end within the bound is stuck. */

void oracle_watchdog_start(void);
void oracle_watchdog_op_begin(int tid, int op);
void oracle_watchdog_op_end(int tid);
int oracle_watchdog_bound_ms(void);
/* The op worker tid is running, -1 between ops. */
int oracle_watchdog_op_of(int tid);

/* oracle_errors.c: which Python exceptions an op may raise. */

/* Clears the current exception when it is one of `expected` (the reason the op may
 * raise it is the caller's comment); any other exception is a finding. */
void oracle_expect_error(ftf_run_t *run, const char *where, PyObject *expected,
                         PyObject *also_expected);
void oracle_require(ftf_run_t *run, int ok, const char *what);

/* oracle_waits.c: where workers wait for locks; code that must never wait. */

#define ORACLE_WAIT_FRAMES 32
typedef struct {
    const void *lock; /* the PyMutex, or the parking address, waited for; NULL: not known */
    bool mutex;       /* lock is a PyMutex (else the thread parked for an event) */
    bool spin;        /* no lock: a retry loop ran out of the scheduler's budget */
    char lock_name[64];
    int waiter, waiter_op;
    int holder, holder_op; /* -1: not known (free mode, or not a critical section's) */
    const char *function;  /* the first function on the waiter's stack above the waiting */
    void *pcs[ORACLE_WAIT_FRAMES];
    int npcs, first_frame; /* pcs[first_frame] is in `function` */
    int64_t length;        /* scheduling points (serialized) or ns (free) */
} oracle_wait_t;

/* The policy in force, "f,g" (FTFUZZ_NO_WAIT_IN, else the build's default); exits when
 * it names a function the executable lacks. */
const char *oracle_waits_policy(void);
void oracle_waits_run_begin(ftf_run_t *run);
/* The run is over: waits from here on (a worker's exit) belong to nobody. */
void oracle_waits_run_end(void);
/* The calling worker cannot go on until `lock` is free (a PyMutex when `mutex`, else
 * the address it parked on, or NULL): a wait opens, once per wait (sched_blocking.c
 * calls it at the first spin or park). A wait that passes through a function of the
 * policy is a finding. `now` is the run's clock: points or ns. */
void oracle_waits_waiting(const void *lock, bool mutex, int64_t now);
/* The calling worker (serialized) has run `points` points while another could run,
 * without waiting on a lock: a spin that waits for a descheduled thread. */
void oracle_waits_spinning(int64_t points);
/* The calling worker took the lock or woke: its open wait, if any, ends. */
void oracle_waits_done(int64_t now);
/* The waits of the current (or last) run, in the order they began. */
int oracle_waits_count(void);
const oracle_wait_t *oracle_waits_get(int i); /* NULL past the ones kept */

/* oracle_history.c and oracle_linearize.c: operations on shared cells, with their
 * call and return, and whether some sequential order explains them (linearizability). */

/* A store or delete names the part of the cell's state it changes: 0 for a slot or
 * member; for a global 0 globals, 1 builtins; for an object's class view 1 + the class
 * whose k it changes (set-class writes part 0, the class's index). */
typedef enum { ORACLE_OP_STORE, ORACLE_OP_LOAD, ORACLE_OP_DELETE, ORACLE_OP_SET_CLASS } oracle_op_kind_t;
typedef enum { ORACLE_OK, ORACLE_RAISED } oracle_outcome_t;
typedef enum { ORACLE_CELL_SLOT, ORACLE_CELL_OBJECT, ORACLE_CELL_GLOBAL, ORACLE_CELL_CLASS_VIEW } oracle_cell_kind_t;
/* Values: a canary's id, or one of these. */
#define ORACLE_EMPTY (-1)   /* NULL: nothing stored */
#define ORACLE_NONE (-2)    /* None, as a _Py_T_OBJECT member reads when empty */
#define ORACLE_FOREIGN (-3) /* an object no op stored (the canary oracle reports it) */
#define ORACLE_MAX_EVENTS 4096
#define ORACLE_PARTS 4 /* a class view: the object's class, then k of each class */

typedef struct {
    uint32_t call, ret; /* stamps: before the call, after the return */
    int32_t value;      /* stored, or returned; for set-class the class's index */
    uint8_t cell, kind, part, outcome, tid;
    int16_t op, rep;
} oracle_event_t;

/* Why a history is not linearizable: how many operations the best order placed, the
 * ones that could have come next and did not fit, and the state there. */
typedef struct {
    int placed;
    int nevents;
    const oracle_event_t *events[FTF_MAX_THREADS];
    int32_t state[ORACLE_PARTS];
} oracle_misfit_t;

/* The cell's state before the run in start (unused parts EMPTY). Returns 1
 * linearizable, 0 not (why filled in), -1 undecided (the search's cap). */
int oracle_linearize(const oracle_event_t *events, int n, oracle_cell_kind_t kind,
                     const int32_t start[ORACLE_PARTS], oracle_misfit_t *why);

/* After world_setup, before the workers: every cell's starting value. Without check,
 * the run records nothing and is not checked. */
void oracle_history_begin(ftf_run_t *run, bool check);
/* A stamp: take one just before an operation's call and one just after its return. */
uint32_t oracle_history_now(void);
/* Records one operation of the calling worker (v: stored or returned, NULL: empty). */
void oracle_history_attr(int pool, int obj, int attr, oracle_op_kind_t kind, PyObject *v,
                         oracle_outcome_t outcome, int rep, uint32_t call, uint32_t ret);
void oracle_history_global(int name, oracle_op_kind_t kind, int part, PyObject *v,
                           oracle_outcome_t outcome, int rep, uint32_t call, uint32_t ret);
/* An op on what obj.k reads: set-class of obj (v the class), a store or delete of k on
 * class c (every object's view), or a load of obj.k. */
void oracle_history_class_view(int obj, int c, oracle_op_kind_t kind, PyObject *v,
                               oracle_outcome_t outcome, int rep, uint32_t call, uint32_t ret);
/* At quiescence: a cell whose history no order explains is a finding. */
void oracle_history_check(ftf_run_t *run);

/* ---- sched/: how the threads of a run interleave ----------------------------------- */

/* sched_free.c: truly concurrent threads, delays from the input. */
extern const ftf_sched_t sched_free;

/* sched_serial.c: one thread at a time, switching where the schedule says. */
extern const ftf_sched_t sched_serial;

/* A scheduling point: counts it and switches threads when the schedule says so. pc is
 * the code that reached it (NULL between ops). Does nothing outside serialized runs. */
void sched_serial_point(const void *pc);

/* sched_interleaving.c: which switch pairs a serialized run took, for the fuzzer. */

/* Marks one switch: the thread giving up the turn stopped at `stopped`, the one taking
 * it is in op `resumed`; locations as sched_serial.c's location() and op_location(). */
void sched_interleaving_note(uint64_t stopped, uint64_t resumed);
/* libFuzzer clears the counters before each input itself; AFL++ and the ftfuzz tool do
 * not, and the account of a run counts its own pairs, so each run clears them too (a
 * 16 KiB memset, well under 0.1% of a run). */
void sched_interleaving_clear(void);
/* How many distinct pairs the counters hold (hash collisions merge a few). */
int sched_interleaving_pairs(void);

/* sched_blocking.c: semaphores, sched_yield and the clock, seen by the scheduler. */

/* Resolves the C library's own functions; call before any thread is scheduled. */
void sched_blocking_init(void);
/* The strategy whose scheduled threads block, yield and read the clock through it. */
void sched_blocking_use(const ftf_sched_t *sched);

/* sched_barrier.c: the barrier op's rendezvous, through the run's strategy. */

/* Holds the calling thread (attached) until every other thread is at a barrier or done. */
void sched_barrier_wait(ftf_run_t *run);
/* The calling thread has run its last op: it no longer holds a barrier back. */
void sched_barrier_thread_done(ftf_run_t *run);

/* ---- ops/: the operations that race ------------------------------------------------ */

/* ops_common.c: runs an op of any family; the value a store stores: a pinned canary or
 * a new one (a new reference either way). */
void ops_run(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);
PyObject *ops_value(ftf_run_t *run, const ftf_op_t *op);
/* The value of an op's next store, given the previous store's (NULL before the first):
 * the same one again, or for "new-each" a new one, the reference to `prev` dropped. */
PyObject *ops_store_value(ftf_run_t *run, const ftf_op_t *op, PyObject *prev);

/* One file per family. */

void ops_attr(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);
void ops_barrier(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);
void ops_member_init(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);
void ops_set_class(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);
void ops_class_attr(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);
void ops_globals(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);
void ops_selftest(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);
void ops_collect(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);

/* Attribute paths (ftf_op_desc_t.variant of ops_attr): action * 4 + path. */
enum { FTF_ACT_STORE, FTF_ACT_LOAD, FTF_ACT_DELETE };
enum { FTF_PATH_BYTECODE, FTF_PATH_ATTR, FTF_PATH_DESCR, FTF_PATH_MEMBER };
/* Variants of ops_globals. */
enum { GLOBALS_LOAD, GLOBALS_STORE, GLOBALS_DELETE, BUILTINS_STORE, BUILTINS_DELETE, GLOBALS_CHURN };
/* Variants of ops_selftest: each breaks one oracle rule on purpose. */
enum {
    SELFTEST_OVER_RELEASE, /* one Py_DECREF too many on a pinned canary */
    SELFTEST_READ_FREED,   /* loads a slot's pointer, lets the value die, then uses it */
    SELFTEST_LEAK,         /* one Py_INCREF never given back */
    SELFTEST_STALL,        /* blocks past the watchdog's bound */
    SELFTEST_RACY_READ,    /* loads a slot's pointer, a scheduling point, then increfs it */
    SELFTEST_HOLD_LOCK,    /* holds an object's critical section across a scheduling point */
    SELFTEST_WAIT_IN_FAST_PATH, /* takes an object's critical section in ops_selftest_fast_path */
    SELFTEST_RELEASE_IN_FAST_PATH, /* ops_selftest_fast_path drops a value whose release takes that section */
    SELFTEST_STALE_LOAD,        /* reports a slot's value read before a scheduling point as read after */
    SELFTEST_STORE_RAISES,      /* stores to a slot and reports that the store raised */
    SELFTEST_DELETE_NOTHING,    /* reports that deleting a slot raised, without touching it */
    SELFTEST_DELETE_KEEP,       /* reports that deleting a slot succeeded, without touching it */
    SELFTEST_TORN_CLASS_LOAD,   /* reads obj.__class__, a scheduling point, then that class's k */
    SELFTEST_SPIN,              /* loops past the watchdog's bound without blocking */
    SELFTEST_POLL,              /* waits past the bound in timed waits, from two places */
};

/* ---- run/: one program from start to finish -----------------------------------------
 * ftf_init, ftf_program_run, ftf_fuzz_one and ftf_specialization_report of ftfuzz.h;
 * nothing here is called from below. */

/* runner.c: runs prog once (ftf_init first) with after_op called after each op. */
void runner_run(const ftf_program_t *prog, void (*after_op)(ftf_run_t *, int, int));

#endif
