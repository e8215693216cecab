/* Slot and member operations: store, load and delete through every path that reaches
 * the code under test (STORE_ATTR_SLOT/LOAD_ATTR_SLOT from bytecode, the generic
 * attribute protocol, the member descriptor, PyMember_SetOne/GetOne). The same ops
 * serve the slots, members and class pools: only the objects differ. */
#include "internal.h"

static PyObject *call(PyObject *fn, PyObject *a, PyObject *b, PyObject *c)
{
    PyObject *args[3] = {a, b, c};
    size_t n = c ? 3 : b ? 2 : 1;
    return PyObject_Vectorcall(fn, args, n, NULL);
}

static void check_list(ftf_run_t *run, PyObject *list, const char *where)
{
    oracle_require(run, list && PyList_CheckExact(list), "a load function returns a list");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        oracle_canary_check_observed(run, PyList_GET_ITEM(list, i), where);
    }
}

/* An operation for the history: what it stored or returned, or that it raised the
 * AttributeError of an empty cell. Any other exception (a descriptor refusing an object
 * whose class changed) did nothing and is left out. */
static void record(const ftf_op_desc_t *d, int obj, int attr, int act, PyObject *v, bool ok, int rep,
                   uint32_t call, uint32_t ret)
{
    static const oracle_op_kind_t kinds[] = {ORACLE_OP_STORE, ORACLE_OP_LOAD, ORACLE_OP_DELETE};
    if (ok || PyErr_ExceptionMatches(PyExc_AttributeError)) {
        oracle_history_attr(d->pool, obj, attr, kinds[act], ok ? v : NULL, ok ? ORACLE_OK : ORACLE_RAISED,
                            rep, call, ret);
    }
}

/* How many repeats of a bytecode store completed before the exception now raised: its
 * loop variable in the store function's frame, the outermost of the traceback since the
 * call came from C. The exception stays raised. */
static int stores_done(void)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *tb = exc ? PyException_GetTraceback(exc) : NULL;
    PyObject *n = tb ? PyFrame_GetVarString(((PyTracebackObject *)tb)->tb_frame, "done") : NULL;
    int done = n && PyLong_Check(n) ? (int)PyLong_AsLong(n) : 0;
    /* A raise before the first iteration leaves `done` unbound (NameError). */
    PyErr_Clear();
    Py_XDECREF(n);
    Py_XDECREF(tb);
    PyErr_SetRaisedException(exc);
    return done;
}

/* Calls the member descriptor of o's current type; its class may change under a
 * class.set-class op between the lookup and the call. */
static PyObject *descr_call(PyObject *o, PyObject *name, int act, PyObject *v, int *status)
{
    PyObject *type = (PyObject *)Py_TYPE(o);
    PyObject *d = PyObject_GetAttr(type, name);
    PyObject *res = NULL;
    *status = -1;
    if (d) {
        if (act == FTF_ACT_LOAD) {
            res = Py_TYPE(d)->tp_descr_get(d, o, type);
            *status = res ? 0 : -1;
        }
        else {
            *status = Py_TYPE(d)->tp_descr_set(d, o, act == FTF_ACT_STORE ? v : NULL);
        }
        Py_DECREF(d);
    }
    return res;
}

/* One call of the op's function, which runs its instruction n times, recorded as
 * repeats base.. of the op. */
static int bytecode_call(ftf_run_t *run, const ftf_op_desc_t *d, int obj, int attr, int act,
                         PyObject *v, int n, int base, const char *where)
{
    ftf_world_t *w = run->world;
    PyObject *o = w->objs[d->pool][obj];
    PyObject *nrep = PyLong_FromLong(n); /* a small int: immortal, no allocation */
    uint32_t t0 = oracle_history_now();
    PyObject *res = act == FTF_ACT_STORE ? call(w->store_fn[d->pool][attr], o, v, nrep)
                    : act == FTF_ACT_LOAD ? call(w->load_fn[d->pool][attr], o, nrep, NULL)
                                          : call(w->delete_fn[d->pool][attr], o, NULL, NULL);
    uint32_t t1 = oracle_history_now();
    if (res && act == FTF_ACT_LOAD) {
        check_list(run, res, where);
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(res); i++) {
            record(d, obj, attr, act, PyList_GET_ITEM(res, i), true, base + (int)i, t0, t1);
        }
    }
    else {
        /* A load that raised returned its earlier elements to nobody: only the empty
         * read is known. A store's repeats before its raise did store v; a delete is
         * one operation. */
        int ok = act == FTF_ACT_STORE ? (res ? n : stores_done()) : res != NULL;
        for (int i = 0; i < ok; i++) {
            record(d, obj, attr, act, v, true, base + i, t0, t1);
        }
        if (!res) {
            record(d, obj, attr, act, v, false, base + ok, t0, t1);
        }
    }
    int status = res ? 0 : -1;
    Py_XDECREF(res);
    return status;
}

void ops_attr(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    ftf_world_t *w = run->world;
    int obj = ftf_arg_obj(op->arg) % FTF_POOL_OBJS;
    int attr = ftf_arg_attr(op->arg) % w->nattrs[d->pool];
    int repeat = ftf_arg_repeat(op->arg);
    int act = d->variant / 4, path = d->variant % 4;
    PyObject *o = w->objs[d->pool][obj];
    PyObject *name = w->attr_names[d->pool][attr];
    PyMemberDef *def = w->memberdefs[d->pool][attr];
    PyObject *v = NULL;
    char where[48];
    snprintf(where, sizeof(where), "%s obj%d.%s", d->name, obj, targets_attr_name(d->pool, attr));
    int status = 0;

    if (path == FTF_PATH_BYTECODE) {
        /* A value per store takes a call per store: the function stores what it is given. */
        int calls = act == FTF_ACT_STORE && ftf_arg_value_each(op->arg) ? repeat : 1;
        for (int i = 0; i < calls && status == 0; i++) {
            v = act == FTF_ACT_STORE ? ops_store_value(run, op, v) : NULL;
            status = bytecode_call(run, d, obj, attr, act, v, repeat / calls, i, where);
        }
    }
    else {
        for (int i = 0; i < repeat && status == 0; i++) {
            PyObject *got = NULL;
            v = act == FTF_ACT_STORE ? ops_store_value(run, op, v) : NULL;
            uint32_t t0 = oracle_history_now();
            switch (path * 3 + act) {
            case FTF_PATH_ATTR * 3 + FTF_ACT_STORE: status = PyObject_SetAttr(o, name, v); break;
            case FTF_PATH_ATTR * 3 + FTF_ACT_LOAD: got = PyObject_GetAttr(o, name); break;
            case FTF_PATH_ATTR * 3 + FTF_ACT_DELETE: status = PyObject_DelAttr(o, name); break;
            case FTF_PATH_MEMBER * 3 + FTF_ACT_STORE: status = PyMember_SetOne((char *)o, def, v); break;
            case FTF_PATH_MEMBER * 3 + FTF_ACT_LOAD: got = PyMember_GetOne((const char *)o, def); break;
            case FTF_PATH_MEMBER * 3 + FTF_ACT_DELETE: status = PyMember_SetOne((char *)o, def, NULL); break;
            default: got = descr_call(o, name, act, v, &status); break;
            }
            uint32_t t1 = oracle_history_now();
            if (act == FTF_ACT_LOAD) {
                status = got ? 0 : -1;
                oracle_canary_check_observed(run, got, where);
            }
            record(d, obj, attr, act, act == FTF_ACT_LOAD ? got : v, status == 0, i, t0, t1);
            Py_XDECREF(got);
        }
    }
    if (status < 0) {
        /* An empty __slots__ slot or Py_T_OBJECT_EX member raises AttributeError on load
         * and delete; in the class pool a descriptor of the old class refuses an object
         * whose __class__ changed after the lookup (TypeError). */
        oracle_expect_error(run, where, PyExc_AttributeError,
                            d->pool == FTF_POOL_CLASS ? PyExc_TypeError : NULL);
    }
    Py_XDECREF(v);
}

/* A C type setting its own member, as tp_init or a method does: a plain store under the
 * object's critical section, not through PyMember_SetOne, so nothing a lock-free
 * PyMember_SetOne would do to the value (such as marking it maybe-weakref) happens. */
void ops_member_init(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    ftf_world_t *w = run->world;
    int obj = ftf_arg_obj(op->arg) % FTF_POOL_OBJS;
    int attr = ftf_arg_attr(op->arg) % w->nattrs[d->pool];
    PyObject *o = w->objs[d->pool][obj];
    PyObject **cell = (PyObject **)((char *)o + w->offsets[d->pool][attr]);
    PyObject *v = NULL;
    for (int i = 0; i < ftf_arg_repeat(op->arg); i++) {
        PyObject *old;
        v = ops_store_value(run, op, v);
        uint32_t t0 = oracle_history_now();
        Py_BEGIN_CRITICAL_SECTION(o);
        old = *cell;
        _Py_atomic_store_ptr_release(cell, Py_NewRef(v));
        Py_END_CRITICAL_SECTION();
        oracle_history_attr(d->pool, obj, attr, ORACLE_OP_STORE, v, ORACLE_OK, i, t0, oracle_history_now());
        Py_XDECREF(old);
    }
    Py_DECREF(v);
}

void ops_barrier(ftf_run_t *run, const ftf_op_desc_t *d, const ftf_op_t *op)
{
    (void)d, (void)op;
    sched_barrier_wait(run);
}
