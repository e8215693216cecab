/* What every op family shares: running an op of any family, and the value a store
 * stores. */
#include "internal.h"

typedef void (*op_fn_t)(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op);

static const op_fn_t family_fn[] = {
    [FTF_FAMILY_BARRIER] = ops_barrier,         [FTF_FAMILY_ATTR] = ops_attr,
    [FTF_FAMILY_MEMBER_INIT] = ops_member_init, [FTF_FAMILY_SET_CLASS] = ops_set_class,
    [FTF_FAMILY_CLASS_ATTR] = ops_class_attr,   [FTF_FAMILY_GLOBALS] = ops_globals,
    [FTF_FAMILY_SELFTEST] = ops_selftest,       [FTF_FAMILY_COLLECT] = ops_collect,
};

/* Called for every op of every input. */
void ops_run(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    family_fn[d->family](run, d, op);
}

PyObject *ops_value(ftf_run_t *run, const ftf_op_t *op)
{
    int v = ftf_arg_value(op->arg);
    return v < FTF_PINNED ? Py_NewRef(run->pinned[v]) : oracle_canary_new(run, false);
}
