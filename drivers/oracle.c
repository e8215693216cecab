/* The oracles that judge a whole input rather than one observed value (canary.c does
 * that): which values a global name may hold, and the reference audit at quiescence. */
#include "internal.h"

void oracle_record_binding(ftf_run_t *run, int name, PyObject *v)
{
    int id = canary_id(v);
    if (id >= 0) {
        /* Recorded before the store is made, so a reader can never see it first. */
        atomic_fetch_or(&run->bound[name][id / 64], UINT64_C(1) << (id % 64));
    }
}

void oracle_check_global(ftf_run_t *run, int name, PyObject *v, const char *where)
{
    canary_check_observed(run, v, where);
    /* Only canaries are ever bound to these names; None passes the liveness check but
     * is as wrong here as a canary never bound to the name. */
    int id = canary_id(v);
    if (id < 0 || !(atomic_load(&run->bound[name][id / 64]) & (UINT64_C(1) << (id % 64)))) {
        report_finding("wrong-global", "%s evaluated to %s #%d, which was never bound to %s "
                       "in globals or builtins during the run", where,
                       id < 0 ? "None, not a canary" : "canary", id,
                       targets_attr_name(FTF_POOL_GLOBALS, name));
    }
}

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
        int id = canary_id(v);
        if (id < 0) {
            report_finding("foreign-object", "after the run %s holds an object of type %.60s, "
                           "where only canaries are ever stored", holders[h].name,
                           Py_TYPE(v)->tp_name);
        }
        if (!canary_is_alive(v)) {
            char died[256];
            canary_describe_death(v, died, sizeof(died));
            report_finding("dangling-reference", "after the run %s still points at canary #%d, "
                           "which was freed by %s", holders[h].name, id, died);
        }
        held[id]++;
        first[id] = first[id] ? first[id] : holders[h].name;
    }
    int n = atomic_load(&run->canaries.count);
    for (int id = 0; id < n; id++) {
        PyObject *c = run->canaries.all[id];
        if (!canary_is_alive(c)) {
            continue;
        }
        Py_ssize_t expected = held[id] + (canary_is_pinned(c) ? 1 : 0);
        Py_ssize_t actual = Py_REFCNT(c);
        if (actual != expected) {
            report_finding(actual > expected ? "leak" : "over-release",
                           "canary #%d has %zd references after the run, but %zd are accounted "
                           "for (%d holder%s%s%s%s)", id, actual, expected, held[id],
                           held[id] == 1 ? "" : "s", first[id] ? ", e.g. " : "",
                           first[id] ? first[id] : "",
                           canary_is_pinned(c) ? ", plus the drivers' pin" : "");
        }
    }
}

void oracle_check_all_dead(ftf_run_t *run)
{
    int n = atomic_load(&run->canaries.count);
    for (int id = 0; id < n; id++) {
        PyObject *c = run->canaries.all[id];
        if (canary_is_alive(c)) {
            report_finding("leak", "canary #%d still has %zd reference%s after teardown dropped "
                           "every reference the drivers know of", id, Py_REFCNT(c),
                           Py_REFCNT(c) == 1 ? "" : "s");
        }
    }
}
