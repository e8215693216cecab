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

/* Dropping the op's reference before the next store leaves the slot the only holder of
 * the previous value, so the store that replaces it frees it, as `o.x = Value()` in a
 * loop does: a lock-free store racing a reader's load then has a death to expose at
 * every store, not at one per op. */
PyObject *ops_store_value(ftf_run_t *run, const ftf_op_t *op, PyObject *prev)
{
    if (prev && !ftf_arg_value_each(op->arg)) {
        return prev;
    }
    Py_XDECREF(prev);
    return ops_value(run, op);
}
