/* What every op family shares: running an op of any family, and the value a store
 * stores. */
#include "internal.h"

void ops_run(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    switch (d->family) {
    case FTF_FAMILY_BARRIER:
        ops_barrier(run, d, op);
        return;
    case FTF_FAMILY_ATTR:
        ops_attr(run, d, op);
        return;
    case FTF_FAMILY_MEMBER_INIT:
        ops_member_init(run, d, op);
        return;
    case FTF_FAMILY_SET_CLASS:
        ops_set_class(run, d, op);
        return;
    case FTF_FAMILY_CLASS_ATTR:
        ops_class_attr(run, d, op);
        return;
    case FTF_FAMILY_GLOBALS:
        ops_globals(run, d, op);
        return;
    case FTF_FAMILY_SELFTEST:
        ops_selftest(run, d, op);
        return;
    }
    report_finding("driver-bug", "op %s has no family %d", d->name, (int)d->family);
}

PyObject *ops_value(ftf_run_t *run, const ftf_op_t *op)
{
    int v = ftf_arg_value(op->arg);
    return v < FTF_PINNED ? Py_NewRef(run->pinned[v]) : oracle_canary_new(run, false);
}
