/* Whether one cell's history is linearizable: some order of its operations, each placed
 * at one instant between its call and its return and in its thread's program order,
 * in which every operation gives the result it gave when the cell follows its
 * sequential specification.
 *
 * The specifications, one per kind of cell (what each operation does to the state and
 * may return; the state is a value or EMPTY, for globals a pair, for a class view four
 * parts):
 *
 *   slot     (__slots__, Py_T_OBJECT_EX members, the class pool's slots)
 *            store v: ok, state v.   load: EMPTY -> AttributeError, else the state.
 *            delete: EMPTY -> AttributeError (no change), else ok, state EMPTY.
 *   object   (_Py_T_OBJECT members)
 *            store v: ok, state v.   load: EMPTY -> None, else the state.
 *            delete: ok, state EMPTY (never raises).
 *   global   (a name in the globals and builtins dicts of the LOAD_GLOBAL functions)
 *            store/delete in globals or in builtins: as slot for that dict's part
 *            (a delete of a missing key raises KeyError, no change).
 *            load: the globals binding if any, else the builtins one, else NameError.
 *   class view (what obj.k reads for one object of the class pool: its __class__ and
 *            the class attribute k of each class A, B, C; no class inherits another)
 *            set-class c: ok, __class__ c (A, B and C share a layout: never refused).
 *            store/delete of c.k: as slot for k of c (a delete of a missing class
 *            attribute raises AttributeError).
 *            load obj.k: k of the current __class__, EMPTY -> AttributeError. So a
 *            load also reads __class__: it returns the last class assigned's k.
 *
 *   Any operation that raised for another reason (a descriptor of an object's old class
 *   refusing it after __class__ changed: TypeError) did nothing and returned nothing; it
 *   is not recorded, since it constrains nothing.
 *
 * The search (Wing and Gong's, with Lowe's memoization): the state of the search is
 * how many operations of each thread are placed (threads run their operations in
 * order) and the cell's state. An operation may be placed next only if no unplaced
 * operation returned before it was called. A (placed counts, state) node that failed
 * once fails again, so it is remembered and never expanded twice. Nodes are at most
 * (n/T + 1)^T * (values + 1)^parts for n operations on T threads; the search gives up after
 * MAX_NODES expanded nodes per cell: undecided, never a finding. Values a
 * thread stores are unique (canaries) except the four pinned ones, so in practice few
 * orders survive each step and a cell of a few hundred operations takes microseconds. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_NODES 20000
#define MEMO_BITS 16 /* 64k slots: more than MAX_NODES, so probing always ends */

typedef struct {
    uint16_t placed[FTF_MAX_THREADS];
    int32_t state[ORACLE_PARTS];
} node_t;

static struct {
    const oracle_event_t *by_thread[FTF_MAX_THREADS][ORACLE_MAX_EVENTS];
    int len[FTF_MAX_THREADS];
    oracle_cell_kind_t kind;
    node_t memo[1 << MEMO_BITS];
    uint32_t used[1 << MEMO_BITS]; /* == gen: in use for this check; no clearing per check */
    uint32_t gen;
    int expanded;
    /* The deepest node reached where an operation did not fit. Every next operation
     * that real time allows fails there: one that fit would lead deeper. */
    int deepest;
    node_t misfit_at;
} L;

static uint32_t hash(const node_t *n)
{
    uint32_t h = 2166136261u;
    const unsigned char *p = (const unsigned char *)n;
    for (size_t i = 0; i < sizeof(*n); i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

/* Marks n failed; false if it already was. */
static bool remember(const node_t *n)
{
    uint32_t i = hash(n) & ((1u << MEMO_BITS) - 1);
    while (L.used[i] == L.gen) {
        if (memcmp(&L.memo[i], n, sizeof(*n)) == 0) {
            return false;
        }
        i = (i + 1) & ((1u << MEMO_BITS) - 1);
    }
    L.used[i] = L.gen;
    L.memo[i] = *n;
    return true;
}

/* What a load sees in state s. */
static int32_t seen(const int32_t *s)
{
    switch (L.kind) {
    case ORACLE_CELL_GLOBAL: return s[0] != ORACLE_EMPTY ? s[0] : s[1];
    case ORACLE_CELL_CLASS_VIEW: return s[0] >= 0 && s[0] < FTF_CLASSES ? s[1 + s[0]] : ORACLE_FOREIGN;
    default: return s[0];
    }
}

/* The specification: whether e may happen in state s, and the state after it. */
static bool apply(const oracle_event_t *e, int32_t *s)
{
    switch (e->kind) {
    case ORACLE_OP_STORE:
    case ORACLE_OP_SET_CLASS:
        s[e->part] = e->value;
        return e->outcome == ORACLE_OK;
    case ORACLE_OP_DELETE:
        if (s[e->part] == ORACLE_EMPTY) {
            return L.kind == ORACLE_CELL_OBJECT ? e->outcome == ORACLE_OK : e->outcome == ORACLE_RAISED;
        }
        s[e->part] = ORACLE_EMPTY;
        return e->outcome == ORACLE_OK;
    case ORACLE_OP_LOAD: {
        int32_t v = seen(s);
        if (v == ORACLE_EMPTY) {
            return L.kind == ORACLE_CELL_OBJECT ? e->outcome == ORACLE_OK && e->value == ORACLE_NONE
                                                : e->outcome == ORACLE_RAISED;
        }
        return e->outcome == ORACLE_OK && e->value == v;
    }
    }
    return false;
}

/* The first return stamp among the unplaced operations at n. */
static uint32_t first_return(const node_t *n)
{
    uint32_t min_ret = UINT32_MAX;
    for (int t = 0; t < FTF_MAX_THREADS; t++) {
        if (n->placed[t] < L.len[t] && L.by_thread[t][n->placed[t]]->ret < min_ret) {
            min_ret = L.by_thread[t][n->placed[t]]->ret;
        }
    }
    return min_ret;
}

/* The operation thread t may place next at n, or NULL: none left, or another
 * operation returned (at first_ret) before this one was called. */
static const oracle_event_t *next_of(const node_t *n, int t, uint32_t first_ret)
{
    if (n->placed[t] == L.len[t]) {
        return NULL;
    }
    const oracle_event_t *e = L.by_thread[t][n->placed[t]];
    return e->call > first_ret ? NULL : e;
}

static int search(node_t *n, int depth, int total)
{
    if (depth == total) {
        return 1;
    }
    if (++L.expanded > MAX_NODES) {
        return -1;
    }
    uint32_t first_ret = first_return(n);
    for (int t = 0; t < FTF_MAX_THREADS; t++) {
        const oracle_event_t *e = next_of(n, t, first_ret);
        if (!e) {
            continue;
        }
        node_t next = *n;
        if (!apply(e, next.state)) {
            if (depth >= L.deepest) {
                L.deepest = depth, L.misfit_at = *n;
            }
            continue;
        }
        next.placed[t]++;
        if (!remember(&next)) {
            continue;
        }
        int r = search(&next, depth + 1, total);
        if (r != 0) {
            return r;
        }
    }
    return 0;
}

int oracle_linearize(const oracle_event_t *events, int n, oracle_cell_kind_t kind,
                     const int32_t start[ORACLE_PARTS], oracle_misfit_t *why)
{
    memset(L.len, 0, sizeof(L.len));
    if (++L.gen == 0) { /* wrapped: every old mark must go */
        memset(L.used, 0, sizeof(L.used));
        L.gen = 1;
    }
    L.kind = kind;
    L.expanded = 0;
    L.deepest = -1;
    /* events are in recording order, which is each thread's program order */
    for (int i = 0; i < n; i++) {
        int t = events[i].tid;
        L.by_thread[t][L.len[t]++] = &events[i];
    }
    node_t root = {0};
    memcpy(root.state, start, sizeof(root.state));
    int r = search(&root, 0, n);
    if (r == 0 && why) {
        why->placed = L.deepest;
        why->nevents = 0;
        uint32_t first_ret = first_return(&L.misfit_at);
        for (int t = 0; t < FTF_MAX_THREADS; t++) {
            const oracle_event_t *e = next_of(&L.misfit_at, t, first_ret);
            if (e) {
                why->events[why->nevents++] = e;
            }
        }
        memcpy(why->state, L.misfit_at.state, sizeof(why->state));
    }
    return r;
}
