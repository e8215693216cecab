/* Histories: every operation on a shared cell (a slot or member of one object, a global
 * name, what obj.k reads for an object of the class pool: its __class__ and the class
 * attributes), with its call and its return, what it stored or returned, and whether it
 * raised; at quiescence, oracle_linearize.c decides for each cell whether some
 * sequential order explains them all, and a cell no order explains is a
 * `not-linearizable` finding.
 *
 * Call and return are stamps of one shared counter, taken just before the operation's
 * CPython call and just after it returns (a sequentially consistent fetch-add): if A's
 * return stamp is below B's call stamp, A returned before B was called, in real time,
 * so A's linearization point, which lies inside A's call, precedes B's. Overlapping
 * intervals leave the order open, as they should. Each repeat of an op (xN) is its own
 * operation; the repeats inside one bytecode call, and the elements one load call
 * returns, share that call's interval and keep their order. Values are canaries: a
 * value names the op that stored it (the four pinned ones are shared by ops). A store
 * or delete of a class attribute changes what every object of the class pool may read:
 * it is recorded in each object's class view.
 *
 * FTFUZZ_LINEARIZABILITY=0 turns the recording and the check off. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* slots, members, class objects; global names; class views */
#define NCELLS (3 * FTF_POOL_OBJS * 4 + 4 + FTF_POOL_OBJS)

static struct {
    bool on;        /* FTFUZZ_LINEARIZABILITY */
    bool recording; /* on, and this run is checked */
    ftf_run_t *run;
    _Atomic uint32_t clock;
    oracle_event_t events[ORACLE_MAX_EVENTS];
    atomic_int n; /* may pass ORACLE_MAX_EVENTS: then the run is not checked */
    int32_t start[NCELLS][ORACLE_PARTS];
} H;

static void init_once(void)
{
    const char *env = getenv("FTFUZZ_LINEARIZABILITY");
    H.on = !env || strcmp(env, "0") != 0;
}

static int attr_cell(int pool, int obj, int attr) { return (pool - FTF_POOL_SLOTS) * 8 + obj * 4 + attr; }
static int global_cell(int name) { return 3 * FTF_POOL_OBJS * 4 + name; }
static int class_view_cell(int obj) { return global_cell(4) + obj; }

static int class_index(const ftf_world_t *w, PyObject *cls)
{
    for (int c = 0; c < FTF_CLASSES; c++) {
        if (w->classes[c] == cls) {
            return c;
        }
    }
    return ORACLE_FOREIGN;
}

static int32_t value_of(PyObject *v)
{
    if (!v) {
        return ORACLE_EMPTY;
    }
    if (v == Py_None) {
        return ORACLE_NONE;
    }
    int id = oracle_canary_id(v);
    return id >= 0 ? id : ORACLE_FOREIGN;
}

void oracle_history_begin(ftf_run_t *run, bool check)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    H.run = run;
    H.recording = H.on && check;
    atomic_store(&H.n, 0);
    atomic_store(&H.clock, 1);
    if (!H.recording) {
        return;
    }
    ftf_world_t *w = run->world;
    for (int c = 0; c < NCELLS; c++) {
        for (int part = 0; part < ORACLE_PARTS; part++) {
            H.start[c][part] = ORACLE_EMPTY;
        }
    }
    for (int p = FTF_POOL_SLOTS; p < FTF_POOL_GLOBALS; p++) {
        for (int i = 0; i < FTF_POOL_OBJS; i++) {
            for (int a = 0; a < w->nattrs[p]; a++) {
                PyObject **cell = (PyObject **)((char *)w->objs[p][i] + w->offsets[p][a]);
                H.start[attr_cell(p, i, a)][0] = value_of(*cell);
            }
        }
    }
    for (int name = 0; name < w->nattrs[FTF_POOL_GLOBALS]; name++) {
        PyObject *key = w->attr_names[FTF_POOL_GLOBALS][name];
        H.start[global_cell(name)][0] = value_of(PyDict_GetItemWithError(w->gns, key));
        H.start[global_cell(name)][1] = value_of(PyDict_GetItemWithError(w->bns, key));
    }
    for (int i = 0; i < FTF_POOL_OBJS; i++) {
        int32_t *view = H.start[class_view_cell(i)];
        view[0] = class_index(w, (PyObject *)Py_TYPE(w->objs[FTF_POOL_CLASS][i]));
        for (int c = 0; c < FTF_CLASSES; c++) {
            view[1 + c] = value_of(PyDict_GetItemWithError(((PyTypeObject *)w->classes[c])->tp_dict, w->key_k));
        }
    }
}

uint32_t oracle_history_now(void) { return atomic_fetch_add(&H.clock, 1); }

static void record(int cell, oracle_op_kind_t kind, int part, int32_t value, oracle_outcome_t outcome,
                   int rep, uint32_t call, uint32_t ret)
{
    if (!H.recording) {
        return;
    }
    int i = atomic_fetch_add(&H.n, 1);
    if (i < ORACLE_MAX_EVENTS) {
        H.events[i] = (oracle_event_t){.call = call, .ret = ret, .value = value, .cell = (uint8_t)cell,
                                       .kind = (uint8_t)kind, .part = (uint8_t)part,
                                       .outcome = (uint8_t)outcome, .tid = (uint8_t)ftf_here.tid,
                                       .op = (int16_t)ftf_here.op, .rep = (int16_t)rep};
    }
}

void oracle_history_attr(int pool, int obj, int attr, oracle_op_kind_t kind, PyObject *v,
                         oracle_outcome_t outcome, int rep, uint32_t call, uint32_t ret)
{
    record(attr_cell(pool, obj, attr), kind, 0, value_of(v), outcome, rep, call, ret);
}

void oracle_history_global(int name, oracle_op_kind_t kind, int part, PyObject *v,
                           oracle_outcome_t outcome, int rep, uint32_t call, uint32_t ret)
{
    record(global_cell(name), kind, part, value_of(v), outcome, rep, call, ret);
}

void oracle_history_class_view(int obj, int c, oracle_op_kind_t kind, PyObject *v,
                               oracle_outcome_t outcome, int rep, uint32_t call, uint32_t ret)
{
    if (kind == ORACLE_OP_SET_CLASS) {
        record(class_view_cell(obj), kind, 0, class_index(H.run->world, v), outcome, rep, call, ret);
        return;
    }
    if (kind == ORACLE_OP_LOAD) {
        record(class_view_cell(obj), kind, 0, value_of(v), outcome, rep, call, ret);
        return;
    }
    for (int i = 0; i < FTF_POOL_OBJS; i++) {
        record(class_view_cell(i), kind, 1 + c, value_of(v), outcome, rep, call, ret);
    }
}

static void cell_name(int cell, char *buf, size_t len)
{
    static const char *const pools[] = {"slots", "members", "class"};
    if (cell >= class_view_cell(0)) {
        snprintf(buf, len, "class obj%d.k (its __class__, and k of A, B and C)", cell - class_view_cell(0));
        return;
    }
    if (cell >= global_cell(0)) {
        snprintf(buf, len, "global %s", targets_attr_name(FTF_POOL_GLOBALS, cell - global_cell(0)));
        return;
    }
    int p = cell / 8, obj = cell % 8 / 4, attr = cell % 4;
    snprintf(buf, len, "%s obj%d.%s", pools[p], obj, targets_attr_name(FTF_POOL_SLOTS + p, attr));
}

static oracle_cell_kind_t cell_kind(const ftf_run_t *run, int cell)
{
    if (cell >= class_view_cell(0)) {
        return ORACLE_CELL_CLASS_VIEW;
    }
    if (cell >= global_cell(0)) {
        return ORACLE_CELL_GLOBAL;
    }
    PyMemberDef *def = run->world->memberdefs[FTF_POOL_SLOTS + cell / 8][cell % 4];
    return def && def->type == _Py_T_OBJECT ? ORACLE_CELL_OBJECT : ORACLE_CELL_SLOT;
}

static const char *value_text(int32_t v, char *buf, size_t len)
{
    switch (v) {
    case ORACLE_EMPTY: return "empty";
    case ORACLE_NONE: return "None";
    case ORACLE_FOREIGN: return "an object that is no canary";
    default: snprintf(buf, len, "canary #%d", (int)v); return buf;
    }
}

/* The name of what a store or delete changes: "" for a slot or member. */
static const char *part_name(oracle_cell_kind_t kind, int part)
{
    static const char *const global_parts[] = {"", "builtins "};
    static const char *const view_parts[] = {"", "A.k ", "B.k ", "C.k "};
    return kind == ORACLE_CELL_GLOBAL ? global_parts[part] : kind == ORACLE_CELL_CLASS_VIEW ? view_parts[part] : "";
}

/* "canary #4", "canary #4 in globals and empty in builtins", "class B; A.k None, ..." */
static void state_text(oracle_cell_kind_t kind, const int32_t *s, char *buf, size_t len)
{
    char bufs[ORACLE_PARTS][24];
    const char *v[ORACLE_PARTS];
    for (int i = 0; i < ORACLE_PARTS; i++) {
        v[i] = value_text(s[i], bufs[i], sizeof(bufs[i]));
    }
    switch (kind) {
    case ORACLE_CELL_GLOBAL: snprintf(buf, len, "%s in globals and %s in builtins", v[0], v[1]); break;
    case ORACLE_CELL_CLASS_VIEW:
        snprintf(buf, len, "class %s; A.k %s, B.k %s, C.k %s",
                 s[0] >= 0 && s[0] < FTF_CLASSES ? targets_class_name(s[0]) : "unknown", v[1], v[2], v[3]);
        break;
    default: snprintf(buf, len, "%s", v[0]); break;
    }
}

/* "t1 op 2 #3 (slots.load-member obj0.a): load returned canary #4, call 12, return 15" */
static void describe(const ftf_run_t *run, int cell, const oracle_event_t *e, char *buf, size_t len)
{
    static const char *const kinds[] = {"store", "load", "delete", "set __class__"};
    char op[96], val[24];
    schedule_format_op(run->prog, e->op, op, sizeof(op));
    int n = snprintf(buf, len, "t%d op %d #%d (%s): %s%s ", e->tid, e->op, e->rep, op,
                     part_name(cell_kind(run, cell), e->part), kinds[e->kind]);
    const char *what = e->outcome == ORACLE_RAISED ? "raised" : e->kind == ORACLE_OP_LOAD ? "returned" : "stored";
    if (e->kind == ORACLE_OP_SET_CLASS) {
        snprintf(buf + n, len - (size_t)n, "to %s, call %" PRIu32 ", return %" PRIu32,
                 e->value >= 0 && e->value < FTF_CLASSES ? targets_class_name(e->value) : "a foreign class",
                 e->call, e->ret);
    }
    else if (e->kind == ORACLE_OP_DELETE) {
        snprintf(buf + n, len - (size_t)n, "%s, call %" PRIu32 ", return %" PRIu32,
                 e->outcome == ORACLE_RAISED ? "raised" : "done", e->call, e->ret);
    }
    else {
        snprintf(buf + n, len - (size_t)n, "%s %s, call %" PRIu32 ", return %" PRIu32, what,
                 e->outcome == ORACLE_RAISED && e->kind == ORACLE_OP_LOAD ? "(empty)"
                                                                          : value_text(e->value, val, sizeof(val)),
                 e->call, e->ret);
    }
}

/* Whether value v is one the cell held at the start (a class view's part 0 is a class). */
static bool held_at_start(oracle_cell_kind_t kind, const int32_t *start, int32_t v)
{
    for (int i = kind == ORACLE_CELL_CLASS_VIEW ? 1 : 0; i < ORACLE_PARTS; i++) {
        if (start[i] == v) {
            return true;
        }
    }
    return false;
}

/* Whether the stores and the deletes that succeeded are already no history: then in
 * every order some delete succeeded on an empty cell, with no store between it and the
 * delete before. Loads, and deletes that raised, change no state, so leaving them out
 * keeps every order that fitted: this never blames the deletes for what a load did.
 * Fills why with the search over those alone. */
static bool deleted_twice(oracle_cell_kind_t kind, const oracle_event_t *ev, int n, const int32_t *start,
                          oracle_misfit_t *why)
{
    static oracle_event_t changes[ORACLE_MAX_EVENTS];
    int k = 0;
    if (kind == ORACLE_CELL_OBJECT) {
        return false; /* deleting an empty _Py_T_OBJECT member is no error */
    }
    for (int i = 0; i < n; i++) {
        if (ev[i].kind != ORACLE_OP_LOAD && ev[i].outcome == ORACLE_OK) {
            changes[k++] = ev[i];
        }
    }
    return oracle_linearize(changes, k, kind, start, why) == 0;
}

/* Appends the misfits of m to buf, which holds used characters. */
static void list_events(const ftf_run_t *run, int cell, const oracle_misfit_t *m, char *buf, size_t len, int used)
{
    char e[200];
    for (int i = 0; i < m->nevents && used >= 0 && (size_t)used < len; i++) {
        describe(run, cell, m->events[i], e, sizeof(e));
        used += snprintf(buf + used, len - (size_t)used, "%s %s", i ? " /" : "", e);
    }
}

/* One sentence on why no order works: the plainest reason that holds. */
static void why_text(const ftf_run_t *run, int cell, const oracle_event_t *ev, int n, const oracle_misfit_t *m,
                     char *buf, size_t len)
{
    oracle_cell_kind_t kind = cell_kind(run, cell);
    char e[200], state[160];
    for (int i = 0; i < n; i++) {
        if (ev[i].kind != ORACLE_OP_LOAD || ev[i].outcome != ORACLE_OK || ev[i].value < 0) {
            continue;
        }
        bool stored = held_at_start(kind, H.start[cell], ev[i].value), before = stored;
        for (int j = 0; j < n; j++) {
            bool store = ev[j].kind == ORACLE_OP_STORE && ev[j].value == ev[i].value;
            stored = stored || store;
            before = before || (store && ev[j].call < ev[i].ret);
        }
        if (!stored || !before) {
            describe(run, cell, &ev[i], e, sizeof(e));
            snprintf(buf, len, "%s, a value %s", e,
                     !stored ? "no operation stored in this cell and it did not hold at the start"
                             : "whose every store was called only after this load returned");
            return;
        }
    }
    oracle_misfit_t d;
    if (deleted_twice(kind, ev, n, H.start[cell], &d)) {
        state_text(kind, d.state, state, sizeof(state));
        int used = snprintf(buf, len, "two deletes both succeeded, and no store can come between them: of the "
                                      "stores and the deletes that succeeded, at best %d fit, and then the cell "
                                      "held %s, where the next are deletes:", d.placed, state);
        list_events(run, cell, &d, buf, len, used);
        return;
    }
    for (int i = 0; i < m->nevents; i++) {
        if (m->events[i]->outcome == ORACLE_RAISED && m->events[i]->kind == ORACLE_OP_STORE) {
            describe(run, cell, m->events[i], e, sizeof(e));
            snprintf(buf, len, "a store never raises, yet %s", e);
            return;
        }
    }
    if (m->nevents > 0) {
        state_text(kind, m->state, state, sizeof(state));
        int used = snprintf(buf, len, "every order fails: at best %d of %d operations fit, and then the cell held %s, "
                                      "where none of the next can be placed:", m->placed, n, state);
        list_events(run, cell, m, buf, len, used);
        return;
    }
    snprintf(buf, len, "no order of the %d operations gives each its result", n);
}

_Noreturn static void report(const ftf_run_t *run, int cell, const oracle_event_t *ev, int n,
                             const oracle_misfit_t *m)
{
    char name[64], why[2048], list[3000] = "", e[200], start[160];
    cell_name(cell, name, sizeof(name));
    why_text(run, cell, ev, n, m, why, sizeof(why));
    for (int i = 0; i < n && i < 16; i++) {
        describe(run, cell, &ev[i], e, sizeof(e));
        size_t used = strlen(list);
        snprintf(list + used, sizeof(list) - used, "\n==ftfuzz==     %s", e);
    }
    if (n > 16) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof(list) - used, "\n==ftfuzz==     ... %d more", n - 16);
    }
    state_text(cell_kind(run, cell), H.start[cell], start, sizeof(start));
    report_finding("not-linearizable",
                   "%s: %s. It started %s; its operations (stamps of one counter taken before "
                   "each call and after each return):%s",
                   name, why, start, list);
}

void oracle_history_check(ftf_run_t *run)
{
    int n = atomic_load(&H.n);
    if (!H.recording || n > ORACLE_MAX_EVENTS) {
        return;
    }
    /* Each cell's events together, in recording order (which is each thread's program
     * order): one counting pass, one placing pass. */
    static oracle_event_t by_cell[ORACLE_MAX_EVENTS];
    int start[NCELLS + 1] = {0}, at[NCELLS];
    for (int i = 0; i < n; i++) {
        start[H.events[i].cell + 1]++;
    }
    for (int c = 0; c < NCELLS; c++) {
        start[c + 1] += start[c];
        at[c] = start[c];
    }
    for (int i = 0; i < n; i++) {
        by_cell[at[H.events[i].cell]++] = H.events[i];
    }
    for (int cell = 0; cell < NCELLS; cell++) {
        int k = start[cell + 1] - start[cell];
        if (k == 0) {
            continue;
        }
        const oracle_event_t *mine = by_cell + start[cell];
        oracle_misfit_t why = {0};
        int r = oracle_linearize(mine, k, cell_kind(run, cell), H.start[cell], &why);
        /* Undecided (r < 0: the search's cap) is no finding. */
        if (r == 0) {
            report(run, cell, mine, k, &why);
        }
    }
}
