/* The linearizability search's verdicts on hand-made histories of one slot, and what it
 * says when none fits: every operation that could come next at the deepest point and
 * does not fit there, not one picked among them. Needs no interpreter. */
#include <string.h>

#include "check.h"
#include "internal.h"

#define MAX_EVENTS 4

typedef struct {
    const char *what;
    int n;
    oracle_event_t h[MAX_EVENTS];
    int verdict;                /* oracle_linearize's: 1 fits, 0 does not */
    int placed;                 /* when it does not: how far the best order got, */
    int32_t state;              /* the slot's value there, */
    int nnamed, named[MAX_EVENTS]; /* and which of h the report names */
} history_t;

#define EV(tid_, kind_, value_, outcome_, call_, ret_)                                                   \
    {.call = (call_), .ret = (ret_), .value = (value_), .kind = ORACLE_OP_##kind_, .outcome = ORACLE_##outcome_, \
     .tid = (tid_)}

static const history_t histories[] = {
    {"in real-time order, a store, a load, a delete and a delete of nothing fit", 4,
     {EV(0, STORE, 5, OK, 1, 2), EV(1, LOAD, 5, OK, 3, 4), EV(1, DELETE, 0, OK, 5, 6), EV(0, DELETE, 0, RAISED, 7, 8)},
     1, 0, 0, 0, {0}},
    {"two overlapping deletes that say the slot, holding c0, was empty: either may come first, both are named", 2,
     {EV(0, DELETE, 0, RAISED, 1, 4), EV(1, DELETE, 0, RAISED, 2, 3)},
     0, 0, 0, 2, {0, 1}},
    {"the same deletes one after the other: the second cannot come first, only the first is named", 2,
     {EV(0, DELETE, 0, RAISED, 1, 2), EV(1, DELETE, 0, RAISED, 3, 4)},
     0, 0, 0, 1, {0}},
    {"after a store of c5 (the deepest point), a load of c7 and a delete of nothing both misfit", 3,
     {EV(0, STORE, 5, OK, 1, 2), EV(1, LOAD, 7, OK, 3, 6), EV(0, DELETE, 0, RAISED, 4, 5)},
     0, 1, 5, 2, {1, 2}},
};

static bool named(const oracle_misfit_t *m, const oracle_event_t *e)
{
    for (int i = 0; i < m->nevents; i++) {
        if (m->events[i] == e) {
            return true;
        }
    }
    return false;
}

int main(void)
{
    const int32_t start[ORACLE_PARTS] = {0, ORACLE_EMPTY, ORACLE_EMPTY, ORACLE_EMPTY}; /* c0 */
    for (size_t k = 0; k < sizeof(histories) / sizeof(histories[0]); k++) {
        const history_t *c = &histories[k];
        oracle_misfit_t m;
        memset(&m, 0, sizeof(m));
        int r = oracle_linearize(c->h, c->n, ORACLE_CELL_SLOT, start, &m);
        CHECK(r == c->verdict, "%s: verdict %d, want %d", c->what, r, c->verdict);
        if (r != 0 || c->verdict != 0) {
            continue;
        }
        CHECK(m.placed == c->placed, "%s: placed %d, want %d", c->what, m.placed, c->placed);
        CHECK(m.state[0] == c->state, "%s: the slot held %d, want %d", c->what, (int)m.state[0], (int)c->state);
        CHECK(m.nevents == c->nnamed, "%s: %d named, want %d", c->what, m.nevents, c->nnamed);
        for (int i = 0; i < c->nnamed; i++) {
            CHECK(named(&m, &c->h[c->named[i]]), "%s: event %d not named", c->what, c->named[i]);
        }
    }
    printf("test_linearize: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
