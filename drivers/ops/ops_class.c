/* __class__ reassignment among layout-compatible classes, and class attribute changes,
 * racing the slot ops of the class pool (ops_attr.c). Each is an operation on the class
 * views of the history (oracle_history.c): what obj.k reads. Reassignment invalidates the
 * type-version guards in front of LOAD_ATTR_SLOT/STORE_ATTR_SLOT; in 3.13 it stops the
 * world. */
#include "internal.h"

void ops_set_class(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    ftf_world_t *w = run->world;
    int obj = ftf_arg_obj(op->arg) % FTF_POOL_OBJS;
    PyObject *cls = w->classes[ftf_arg_attr(op->arg) % FTF_CLASSES];
    char where[48];
    snprintf(where, sizeof(where), "%s obj%d", d->name, obj);
    uint32_t t0 = oracle_history_now();
    int status = PyObject_SetAttr(w->objs[FTF_POOL_CLASS][obj], w->key_class, cls);
    uint32_t t1 = oracle_history_now();
    /* A, B and C have the same __slots__, so the assignment itself must always succeed. */
    oracle_require(run, status == 0, where);
    oracle_history_class_view(obj, 0, ORACLE_OP_SET_CLASS, cls, ORACLE_OK, 0, t0, t1);
}

void ops_class_attr(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    ftf_world_t *w = run->world;
    int c = ftf_arg_attr(op->arg) % FTF_CLASSES;
    int obj = ftf_arg_obj(op->arg) % FTF_POOL_OBJS;
    char where[48];
    int status;
    if (d->variant == FTF_ACT_LOAD) {
        snprintf(where, sizeof(where), "%s obj%d.k", d->name, obj);
        PyObject *nrep = PyLong_FromLong(ftf_arg_repeat(op->arg));
        PyObject *args[2] = {w->objs[FTF_POOL_CLASS][obj], nrep};
        uint32_t t0 = oracle_history_now();
        PyObject *res = PyObject_Vectorcall(w->load_class_attr_fn, args, 2, NULL);
        uint32_t t1 = oracle_history_now();
        if (res) {
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(res); i++) {
                oracle_canary_check_observed(run, PyList_GET_ITEM(res, i), where);
                oracle_history_class_view(obj, 0, ORACLE_OP_LOAD, PyList_GET_ITEM(res, i), ORACLE_OK, (int)i, t0, t1);
            }
        }
        else if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            /* The elements loaded before the raise went to nobody: only the empty read is known. */
            oracle_history_class_view(obj, 0, ORACLE_OP_LOAD, NULL, ORACLE_RAISED, 0, t0, t1);
        }
        status = res ? 0 : -1;
        Py_XDECREF(res);
    }
    else {
        snprintf(where, sizeof(where), "%s %s.k", d->name, targets_class_name(c));
        PyObject *v = d->variant == FTF_ACT_STORE ? ops_value(run, op) : NULL;
        uint32_t t0 = oracle_history_now();
        status = PyObject_SetAttr(w->classes[c], w->key_k, v);
        uint32_t t1 = oracle_history_now();
        if (status == 0 || PyErr_ExceptionMatches(PyExc_AttributeError)) {
            oracle_history_class_view(0, c, v ? ORACLE_OP_STORE : ORACLE_OP_DELETE, v,
                                      status == 0 ? ORACLE_OK : ORACLE_RAISED, 0, t0, t1);
        }
        Py_XDECREF(v);
    }
    if (status < 0) {
        /* An empty k: whether it could be empty then is the history's to decide. */
        oracle_expect_error(run, where, PyExc_AttributeError, NULL);
    }
}
