/* The linearizability search's verdicts on hand-made histories, and what it says when
 * none fits: every operation that could come next at the deepest point and does not
 * fit there, not one picked among them. Needs no interpreter. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int failures;
#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                             \
            fprintf(stderr, "\n");                                    \
            failures++;                                               \
        }                                                             \
    } while (0)

#define C(n) (n) /* a canary's id */

static oracle_event_t ev(int tid, int op, oracle_op_kind_t kind, int32_t value, oracle_outcome_t outcome,
                         uint32_t call, uint32_t ret)
{
    return (oracle_event_t){.call = call, .ret = ret, .value = value, .kind = kind, .outcome = outcome,
                            .tid = (uint8_t)tid, .op = (int16_t)op};
}

static const int32_t starts_c0[ORACLE_PARTS] = {C(0), ORACLE_EMPTY, ORACLE_EMPTY, ORACLE_EMPTY};

static bool names(const oracle_misfit_t *m, const oracle_event_t *e)
{
    for (int i = 0; i < m->nevents; i++) {
        if (m->events[i] == e) {
            return true;
        }
    }
    return false;
}

static void a_sequential_history_fits(void)
{
    oracle_event_t h[] = {
        ev(0, 0, ORACLE_OP_STORE, C(5), ORACLE_OK, 1, 2),
        ev(1, 0, ORACLE_OP_LOAD, C(5), ORACLE_OK, 3, 4),
        ev(1, 1, ORACLE_OP_DELETE, 0, ORACLE_OK, 5, 6),
        ev(0, 1, ORACLE_OP_DELETE, 0, ORACLE_RAISED, 7, 8),
    };
    CHECK(oracle_linearize(h, 4, ORACLE_CELL_SLOT, starts_c0, NULL) == 1, "a history in real-time order must fit");
}

/* Two overlapping deletes that both say the slot was empty while it held c0: both
 * could come first, neither fits, and the report names both. */
static void every_misfit_is_named(void)
{
    oracle_event_t h[] = {
        ev(0, 0, ORACLE_OP_DELETE, 0, ORACLE_RAISED, 1, 4),
        ev(1, 0, ORACLE_OP_DELETE, 0, ORACLE_RAISED, 2, 3),
    };
    oracle_misfit_t m;
    memset(&m, 0, sizeof(m));
    CHECK(oracle_linearize(h, 2, ORACLE_CELL_SLOT, starts_c0, &m) == 0, "no order fits");
    CHECK(m.placed == 0, "placed %d, want 0", m.placed);
    CHECK(m.nevents == 2 && names(&m, &h[0]) && names(&m, &h[1]), "named %d, want both deletes", m.nevents);
    CHECK(m.state[0] == C(0), "state %d, want canary 0", (int)m.state[0]);
}

/* The same deletes one after the other: the second was called after the first returned,
 * so only the first can come next, and only it is named. */
static void real_time_order_limits_the_misfits(void)
{
    oracle_event_t h[] = {
        ev(0, 0, ORACLE_OP_DELETE, 0, ORACLE_RAISED, 1, 2),
        ev(1, 0, ORACLE_OP_DELETE, 0, ORACLE_RAISED, 3, 4),
    };
    oracle_misfit_t m;
    memset(&m, 0, sizeof(m));
    CHECK(oracle_linearize(h, 2, ORACLE_CELL_SLOT, starts_c0, &m) == 0, "no order fits");
    CHECK(m.nevents == 1 && m.events[0] == &h[0], "named %d, want the first delete only", m.nevents);
}

/* A store of c5, then a load of c7 that no store wrote, beside a delete that says
 * empty: after the store (the deepest point) both the load and the delete misfit. */
static void misfits_at_the_deepest_point(void)
{
    oracle_event_t h[] = {
        ev(0, 0, ORACLE_OP_STORE, C(5), ORACLE_OK, 1, 2),
        ev(1, 0, ORACLE_OP_LOAD, C(7), ORACLE_OK, 3, 6),
        ev(0, 1, ORACLE_OP_DELETE, 0, ORACLE_RAISED, 4, 5),
    };
    oracle_misfit_t m;
    memset(&m, 0, sizeof(m));
    CHECK(oracle_linearize(h, 3, ORACLE_CELL_SLOT, starts_c0, &m) == 0, "no order fits");
    CHECK(m.placed == 1, "placed %d, want 1 (the store)", m.placed);
    CHECK(m.nevents == 2 && names(&m, &h[1]) && names(&m, &h[2]), "named %d, want the load and the delete",
          m.nevents);
    CHECK(m.state[0] == C(5), "state %d, want canary 5", (int)m.state[0]);
}

int main(void)
{
    a_sequential_history_fits();
    every_misfit_is_named();
    real_time_order_limits_the_misfits();
    misfits_at_the_deepest_point();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok: linearize\n");
    return 0;
}
