/* The reference audit: at quiescence, each live canary has exactly as many references as
 * places hold it; after teardown, none is left alive. It judges a whole input, where
 * oracle_canary.c judges one observed value. */
#include "internal.h"

/* Runs with every worker parked: no reference can move while it counts. */
void oracle_audit(ftf_run_t *run)
{
    ftf_holder_t holders[64];
    int nholders = world_holders(run->world, holders, 64);
    int held[FTF_MAX_CANARIES] = {0};
    const char *first[FTF_MAX_CANARIES] = {0};
    for (int h = 0; h < nholders; h++) {
        PyObject *v = holders[h].cell ? *holders[h].cell
                                      : PyDict_GetItemWithError(holders[h].dict, holders[h].key);
        if (v == NULL || v == Py_None) {
            continue;
        }
        int id = oracle_canary_id(v);
        if (id < 0) {
            report_finding("foreign-object", "after the run %s holds an object of type %.60s, "
                           "where only canaries are ever stored", holders[h].name,
                           Py_TYPE(v)->tp_name);
        }
        if (!oracle_canary_is_alive(v)) {
            char died[256];
            oracle_canary_describe_death(v, died, sizeof(died));
            report_finding("dangling-reference", "after the run %s still points at canary #%d, "
                           "which was freed by %s", holders[h].name, id, died);
        }
        held[id]++;
        first[id] = first[id] ? first[id] : holders[h].name;
    }
    int n = atomic_load(&run->canaries.count);
    for (int id = 0; id < n; id++) {
        PyObject *c = run->canaries.all[id];
        if (!oracle_canary_is_alive(c)) {
            continue;
        }
        Py_ssize_t expected = held[id] + (oracle_canary_is_pinned(c) ? 1 : 0);
        Py_ssize_t actual = Py_REFCNT(c);
        if (actual != expected) {
            report_finding(actual > expected ? "leak" : "over-release",
                           "canary #%d has %zd references after the run, but %zd are accounted "
                           "for (%d holder%s%s%s%s)", id, actual, expected, held[id],
                           held[id] == 1 ? "" : "s", first[id] ? ", e.g. " : "",
                           first[id] ? first[id] : "",
                           oracle_canary_is_pinned(c) ? ", plus the drivers' pin" : "");
        }
    }
}

void oracle_check_all_dead(ftf_run_t *run)
{
    int n = atomic_load(&run->canaries.count);
    for (int id = 0; id < n; id++) {
        PyObject *c = run->canaries.all[id];
        if (oracle_canary_is_alive(c)) {
            report_finding("leak", "canary #%d still has %zd reference%s after teardown dropped "
                           "every reference the drivers know of", id, Py_REFCNT(c),
                           Py_REFCNT(c) == 1 ? "" : "s");
        }
    }
}
