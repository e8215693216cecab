/* LOAD_GLOBAL in hot functions against changes to their globals and builtins dicts:
 * rebinding, inserting and deleting keys (which bumps the dict's keys version that
 * LOAD_GLOBAL_MODULE/BUILTIN guard on), and shadowing a builtin with a global. */
#include "internal.h"

static void load(ftf_run_t *run, const ftf_op_t *op, int name, const char *where)
{
    PyObject *nrep = PyLong_FromLong(ftf_arg_repeat(op->arg));
    uint32_t t0 = oracle_history_now();
    PyObject *res = PyObject_Vectorcall(run->world->load_fn[FTF_POOL_GLOBALS][name], &nrep, 1, NULL);
    uint32_t t1 = oracle_history_now();
    if (!res) {
        if (PyErr_ExceptionMatches(PyExc_NameError)) {
            oracle_history_global(name, ORACLE_OP_LOAD, 0, NULL, ORACLE_RAISED, 0, t0, t1);
        }
        /* The name was deleted from both dicts. */
        oracle_expect_error(run, where, PyExc_NameError, NULL);
        return;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(res); i++) {
        oracle_canary_check_observed(run, PyList_GET_ITEM(res, i), where);
        oracle_history_global(name, ORACLE_OP_LOAD, 0, PyList_GET_ITEM(res, i), ORACLE_OK, (int)i, t0, t1);
    }
    Py_DECREF(res);
}

void ops_globals(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    ftf_world_t *w = run->world;
    int name = ftf_arg_attr(op->arg) % w->nattrs[FTF_POOL_GLOBALS];
    PyObject *key = w->attr_names[FTF_POOL_GLOBALS][name];
    PyObject *dict = d->variant == BUILTINS_STORE || d->variant == BUILTINS_DELETE ? w->bns : w->gns;
    char where[48];
    snprintf(where, sizeof(where), "%s %s", d->name, targets_attr_name(FTF_POOL_GLOBALS, name));
    switch (d->variant) {
    case GLOBALS_LOAD:
        load(run, op, name, where);
        break;
    case GLOBALS_STORE:
    case BUILTINS_STORE: {
        PyObject *v = ops_value(run, op);
        uint32_t t0 = oracle_history_now();
        oracle_require(run, PyDict_SetItem(dict, key, v) == 0, where);
        oracle_history_global(name, ORACLE_OP_STORE, dict == w->bns, v, ORACLE_OK, 0, t0, oracle_history_now());
        Py_DECREF(v);
        break;
    }
    case GLOBALS_DELETE:
    case BUILTINS_DELETE: {
        uint32_t t0 = oracle_history_now();
        int r = PyDict_DelItem(dict, key);
        uint32_t t1 = oracle_history_now();
        if (r == 0 || PyErr_ExceptionMatches(PyExc_KeyError)) {
            oracle_history_global(name, ORACLE_OP_DELETE, dict == w->bns, NULL, r == 0 ? ORACLE_OK : ORACLE_RAISED,
                                  0, t0, t1);
        }
        if (r < 0) {
            /* Already deleted, or never bound in this dict. */
            oracle_expect_error(run, where, PyExc_KeyError, NULL);
        }
        break;
    }
    case GLOBALS_CHURN:
        for (int i = 0; i < ftf_arg_repeat(op->arg); i++) {
            oracle_require(run, PyDict_SetItem(w->gns, w->churn_keys[i], Py_None) == 0, where);
        }
        for (int i = 0; i < ftf_arg_repeat(op->arg); i++) {
            if (PyDict_DelItem(w->gns, w->churn_keys[i]) < 0) {
                /* Another thread's churn deleted it first. */
                oracle_expect_error(run, where, PyExc_KeyError, NULL);
            }
        }
        break;
    }
}
