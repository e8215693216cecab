/* Canaries: the values that travel through the racing slots, dicts and members.
 *
 * Free-threaded CPython allocates objects from mimalloc, which ASan does not watch, so a
 * stale reference to a freed object is seen late or never. A canary catches it at the
 * moment it is touched instead: its dealloc marks it dead and keeps its memory (the
 * object header stays valid, so CPython's try-incref keeps failing on it as it should),
 * its payload is poisoned for ASan, and every op that observes a value checks it.
 * The memory is given back only after the input, when no thread can hold it.
 *
 * A fresh canary is an ordinary object owned by the thread that made it: stored from
 * that thread it has only local references, the case in which a reader on another
 * thread cannot try-incref it and must fall back (or spin). Released by another thread,
 * it waits in its owner's biased-refcount queue and dies when the owner merges, as any
 * object would; the runner drains those queues before it audits and frees.
 *
 * A pinned canary starts merged (no owner, all references shared), a state objects
 * reach routinely. Its death is then synchronous, in the thread and op that dropped the
 * last reference, so an over-release of the drivers' reference names its culprit.
 */
#include <sanitizer/asan_interface.h>
#include <string.h>

#include "internal.h"

#define CANARY_ALIVE 0xa11fe5u
#define CANARY_DEAD 0xdeadu

typedef struct {
    PyObject_HEAD
    uint32_t state; /* CANARY_ALIVE until the dealloc, then CANARY_DEAD */
    int32_t id;     /* index in the run's registry: "canary #id" */
    bool pinned;
    ftf_run_t *run;
    ftf_pos_t born, died;
    uint64_t payload[4]; /* poisoned once dead: any access by CPython is an ASan report */
} canary_t;

static void canary_dealloc(PyObject *self);

static PyTypeObject canary_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ftfuzz.Canary",
    .tp_basicsize = sizeof(canary_t),
    .tp_dealloc = canary_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
};

int oracle_canary_type_ready(void) { return PyType_Ready(&canary_type); }

static void describe_pos(const ftf_run_t *run, ftf_pos_t pos, char *buf, size_t len)
{
    if (pos.tid < 0 || pos.op < 0) {
        snprintf(buf, len, "the driving thread %s", run && atomic_load(&run->tearing_down)
                                                        ? "at teardown" : "outside any op");
        return;
    }
    char op[160];
    schedule_format_op(run->prog, pos.op, op, sizeof(op));
    snprintf(buf, len, "thread %d, op %d (%s)", pos.tid, pos.op, op);
}

static void canary_dealloc(PyObject *self)
{
    canary_t *c = (canary_t *)self;
    ftf_run_t *run = c->run;
    char here[256], where[256];
    if (c->state != CANARY_ALIVE) {
        describe_pos(run, ftf_here, here, sizeof(here));
        describe_pos(run, c->died, where, sizeof(where));
        report_finding("double-free", "canary #%d deallocated again by %s; it had died in %s, "
                       "so a reference was taken to a dead object", c->id, here, where);
    }
    c->state = CANARY_DEAD;
    c->died = ftf_here;
    ASAN_POISON_MEMORY_REGION(c->payload, sizeof(c->payload));
    if (atomic_load(&run->tearing_down)) {
        return;
    }
    if (c->pinned) {
        describe_pos(run, ftf_here, here, sizeof(here));
        report_finding("over-release", "pinned canary #%d freed by %s while the drivers still "
                       "hold a reference to it", c->id, here);
    }
    const char *cell = world_find_cell(run->world, self);
    if (cell) {
        describe_pos(run, ftf_here, here, sizeof(here));
        report_finding("over-release", "canary #%d freed by %s while %s still points at it",
                       c->id, here, cell);
    }
}

PyObject *oracle_canary_new(ftf_run_t *run, bool pinned)
{
    int id = atomic_fetch_add(&run->canaries.count, 1);
    if (id >= FTF_MAX_CANARIES) {
        report_finding("driver-bug", "more than %d canaries in one input", FTF_MAX_CANARIES);
    }
    canary_t *c = PyObject_New(canary_t, &canary_type);
    if (!c) {
        report_finding("driver-bug", "cannot allocate a canary");
    }
    c->state = CANARY_ALIVE;
    c->id = id;
    c->pinned = pinned;
    c->run = run;
    c->born = ftf_here;
    c->died = (ftf_pos_t){-1, -1};
    memset(c->payload, 0xca, sizeof(c->payload));
    PyObject *o = (PyObject *)c;
    if (pinned) {
        /* Not yet visible to another thread: plain stores are enough. */
        o->ob_tid = 0;
        o->ob_ref_local = 0;
        o->ob_ref_shared = _Py_REF_SHARED(1, _Py_REF_MERGED);
    }
    run->canaries.all[id] = o;
    return o;
}

int oracle_canary_id(PyObject *v)
{
    return v && Py_TYPE(v) == &canary_type ? ((canary_t *)v)->id : -1;
}

bool oracle_canary_is_alive(PyObject *v) { return ((canary_t *)v)->state == CANARY_ALIVE; }
bool oracle_canary_is_pinned(PyObject *v) { return ((canary_t *)v)->pinned; }

void oracle_canary_describe_death(PyObject *v, char *buf, size_t len)
{
    canary_t *c = (canary_t *)v;
    describe_pos(c->run, c->died, buf, len);
}

/* Apart from the check itself, so that the check's frame has no buffers: under ASan a
 * frame with buffers takes a fake-stack allocation on every call. */
_Noreturn __attribute__((noinline)) static void report_observed(ftf_run_t *run, PyObject *v,
                                                                const char *where, bool stale)
{
    char here[256], died[256];
    canary_t *c = (canary_t *)v;
    describe_pos(run, ftf_here, here, sizeof(here));
    if (Py_TYPE(v) != &canary_type) {
        report_finding("foreign-object", "%s read an object of type %.60s from %s, where only "
                       "canaries are ever stored", here, Py_TYPE(v)->tp_name, where);
    }
    if (stale) {
        report_finding("stale-object", "%s read from %s a canary that is not one of this "
                       "input's (memory of an earlier input)", here, where);
    }
    describe_pos(run, c->died, died, sizeof(died));
    report_finding("dead-canary-read", "dead canary #%d read from %s by %s; it was freed "
                   "by %s", c->id, where, here, died);
}

void oracle_canary_check_observed(ftf_run_t *run, PyObject *v, const char *where)
{
    if (v == NULL || v == Py_None) {
        return;
    }
    canary_t *c = (canary_t *)v;
    bool foreign = Py_TYPE(v) != &canary_type;
    bool stale = !foreign && (c->run != run || c->id < 0 ||
                              c->id >= atomic_load(&run->canaries.count) || run->canaries.all[c->id] != v);
    if (foreign || stale || c->state != CANARY_ALIVE) {
        report_observed(run, v, where, stale);
    }
}

void oracle_canary_release_all(ftf_run_t *run)
{
    int n = atomic_load(&run->canaries.count);
    for (int i = 0; i < n; i++) {
        canary_t *c = (canary_t *)run->canaries.all[i];
        ASAN_UNPOISON_MEMORY_REGION(c->payload, sizeof(c->payload));
        PyObject_Free(c);
        run->canaries.all[i] = NULL;
    }
    atomic_store(&run->canaries.count, 0);
}
