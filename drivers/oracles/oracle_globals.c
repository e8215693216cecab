/* LOAD_GLOBAL's oracle: a global name may evaluate only to a value bound to it, in
 * globals or builtins, at some time during the run. Canaries are unique, so a bitset of
 * canary ids per name is the whole history. */
#include "internal.h"

void oracle_record_binding(ftf_run_t *run, int name, PyObject *v)
{
    int id = oracle_canary_id(v);
    if (id >= 0) {
        /* Recorded before the store is made, so a reader can never see it first. */
        atomic_fetch_or(&run->bound[name][id / 64], UINT64_C(1) << (id % 64));
    }
}

void oracle_check_global(ftf_run_t *run, int name, PyObject *v, const char *where)
{
    oracle_canary_check_observed(run, v, where);
    /* Only canaries are ever bound to these names; None passes the liveness check but
     * is as wrong here as a canary never bound to the name. */
    int id = oracle_canary_id(v);
    if (id < 0 || !(atomic_load(&run->bound[name][id / 64]) & (UINT64_C(1) << (id % 64)))) {
        report_finding("wrong-global", "%s evaluated to %s #%d, which was never bound to %s "
                       "in globals or builtins during the run", where,
                       id < 0 ? "None, not a canary" : "canary", id,
                       targets_attr_name(FTF_POOL_GLOBALS, name));
    }
}

void oracle_record_world_bindings(ftf_run_t *run)
{
    ftf_holder_t holders[64];
    int n = world_holders(run->world, holders, 64);
    for (int h = 0; h < n; h++) {
        if (holders[h].global >= 0) {
            oracle_record_binding(run, holders[h].global,
                                  PyDict_GetItemWithError(holders[h].dict, holders[h].key));
        }
    }
}
