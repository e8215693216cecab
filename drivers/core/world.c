/* The Python objects the ops race on. Classes, the C type and the functions are made
 * once per process, so the specializing interpreter (3.14+) keeps its warmed-up
 * bytecode from input to input; instances and bindings are made again for each input. */
#include <stddef.h>
#include <string.h>

#include "internal.h"

/* ---- the C type of the members pool ------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    PyObject *obj;   /* _Py_T_OBJECT: reads None when empty, delete never fails */
    PyObject *objex; /* Py_T_OBJECT_EX: AttributeError when empty */
} members_t;

static PyMemberDef members_members[] = {
    {"obj", _Py_T_OBJECT, offsetof(members_t, obj), 0, NULL},
    {"objex", Py_T_OBJECT_EX, offsetof(members_t, objex), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static void members_dealloc(PyObject *self)
{
    members_t *m = (members_t *)self;
    Py_CLEAR(m->obj);
    Py_CLEAR(m->objex);
    Py_TYPE(self)->tp_free(self);
}

static PyTypeObject members_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ftfuzz.Members",
    .tp_basicsize = sizeof(members_t),
    .tp_dealloc = members_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_members = members_members,
    .tp_new = PyType_GenericNew,
};

/* ---- Python source ----------------------------------------------------------------- */

static const char classes_src[] =
    "class Slots:\n    __slots__ = ('a', 'b')\n"
    "class A:\n    __slots__ = ('a', 'b')\n    k = None\n"
    "class B:\n    __slots__ = ('a', 'b')\n    k = None\n"
    "class C:\n    __slots__ = ('a', 'b')\n"
    "def load_k(o, r):\n    return [o.k for _ in range(r)]\n"
    "def drain():\n    pass\n"
    "from gc import collect\n";

static const char *const pool_prefix[FTF_POOL_COUNT] = {
    [FTF_POOL_SLOTS] = "slots", [FTF_POOL_MEMBERS] = "members", [FTF_POOL_CLASS] = "class"};

/* One function per pool and attribute, so each has its own specialization site: a
 * STORE_ATTR shared by two types would keep deoptimizing. A store that raises partway
 * leaves its loop variable `done` in the traceback's frame: the stores before it took
 * effect, and the history must hold them. */
static int define_attr_functions(ftf_world_t *w, ftf_pool_t pool)
{
    for (int i = 0; i < w->nattrs[pool]; i++) {
        const char *p = pool_prefix[pool], *n = targets_attr_name(pool, i);
        char src[512];
        snprintf(src, sizeof(src),
                 "def store_%s_%s(o, v, r):\n    for done in range(r):\n        o.%s = v\n"
                 "def load_%s_%s(o, r):\n    return [o.%s for _ in range(r)]\n"
                 "def delete_%s_%s(o):\n    del o.%s\n",
                 p, n, n, p, n, n, p, n, n);
        PyObject *res = PyRun_String(src, Py_file_input, w->ns, w->ns);
        if (!res) {
            return -1;
        }
        Py_DECREF(res);
        char name[64];
        snprintf(name, sizeof(name), "store_%s_%s", p, n);
        w->store_fn[pool][i] = PyDict_GetItemString(w->ns, name);
        snprintf(name, sizeof(name), "load_%s_%s", p, n);
        w->load_fn[pool][i] = PyDict_GetItemString(w->ns, name);
        snprintf(name, sizeof(name), "delete_%s_%s", p, n);
        w->delete_fn[pool][i] = PyDict_GetItemString(w->ns, name);
    }
    return 0;
}

/* LOAD_GLOBAL functions live in their own globals dict whose builtins are a private
 * copy, so replacing builtins entries never disturbs the rest of the interpreter. */
static int define_global_functions(ftf_world_t *w)
{
    w->bns = PyDict_Copy(PyEval_GetBuiltins());
    w->gns = PyDict_New();
    if (!w->bns || !w->gns || PyDict_SetItemString(w->gns, "__builtins__", w->bns)) {
        return -1;
    }
    for (int i = 0; i < w->nattrs[FTF_POOL_GLOBALS]; i++) {
        const char *n = targets_attr_name(FTF_POOL_GLOBALS, i);
        char src[256], name[32];
        snprintf(src, sizeof(src), "def load_%s(r):\n    return [%s for _ in range(r)]\n", n, n);
        PyObject *res = PyRun_String(src, Py_file_input, w->gns, w->gns);
        if (!res) {
            return -1;
        }
        Py_DECREF(res);
        snprintf(name, sizeof(name), "load_%s", n);
        w->load_fn[FTF_POOL_GLOBALS][i] = PyDict_GetItemString(w->gns, name);
        w->attr_names[FTF_POOL_GLOBALS][i] = PyUnicode_InternFromString(n);
    }
    return 0;
}

/* The type keeps its member descriptors, and so the PyMemberDef, for the process. */
static PyMemberDef *member_def(PyObject *type, PyObject *name)
{
    PyObject *d = PyObject_GetAttr(type, name);
    PyMemberDef *def = NULL;
    if (d && PyObject_TypeCheck(d, &PyMemberDescr_Type)) {
        def = ((PyMemberDescrObject *)d)->d_member;
    }
    Py_XDECREF(d);
    return def;
}

/* Setting up the world fails only through a bug of the drivers: the runner reports
 * what failed, from w->error. */
static int fail(ftf_world_t *w, const char *what)
{
    if (PyErr_Occurred()) {
        PyErr_Print();
    }
    w->error = what;
    return -1;
}

static bool must(ftf_world_t *w, int ok, const char *what)
{
    return ok || fail(w, what) == 0;
}

/* A class dict where an input changed k goes back to its copy (restore_dict below).
 * Setting k back would not do: a k deleted and added again takes a new entry behind a
 * deleted one, every later lookup of k probes past that, and a serialized schedule's
 * switch points would shift with the inputs run before it. */
static bool class_dict_changed(ftf_world_t *w, int c)
{
    PyObject *d = ((PyTypeObject *)w->classes[c])->tp_dict, *copy = w->class_dicts[c];
    return PyDict_GET_SIZE(d) != PyDict_GET_SIZE(copy) ||
           interp_dict_entries(d) != interp_dict_entries(copy) ||
           PyDict_GetItemWithError(d, w->key_k) != PyDict_GetItemWithError(copy, w->key_k);
}

/* An empty dict merged from a dict without deleted entries clones its keys, layout and
 * all: a dict restored so is the same for every input, whatever the inputs before it
 * added and deleted. */
static int restore_dict(PyObject *d, PyObject *clean)
{
    PyDict_Clear(d);
    return PyDict_Update(d, clean);
}

static int restore_class_dict(ftf_world_t *w, int c)
{
    PyTypeObject *t = (PyTypeObject *)w->classes[c];
    if (restore_dict(t->tp_dict, w->class_dicts[c])) {
        return -1;
    }
    /* The dict changed behind the type's back: its version and caches must go. */
    PyType_Modified(t);
    return 0;
}

int world_init(ftf_world_t *w)
{
    memset(w, 0, sizeof(*w));
    if (PyType_Ready(&members_type) < 0) {
        return fail(w, "the Members type");
    }
    w->ns = PyDict_New();
    if (!w->ns || PyDict_SetItemString(w->ns, "__builtins__", PyEval_GetBuiltins())) {
        return fail(w, "the namespace of the attribute functions");
    }
    PyObject *res = PyRun_String(classes_src, Py_file_input, w->ns, w->ns);
    if (!res) {
        return fail(w, "the class statements");
    }
    Py_DECREF(res);
    w->slots_type = PyDict_GetItemString(w->ns, "Slots");
    w->members_type = (PyObject *)&members_type;
    for (int c = 0; c < FTF_CLASSES; c++) {
        w->classes[c] = PyDict_GetItemString(w->ns, targets_class_name(c));
        w->class_dicts[c] = PyDict_Copy(((PyTypeObject *)w->classes[c])->tp_dict);
        /* Restored once now, so a fresh process starts from the layout every later
         * input is restored to. */
        if (!w->class_dicts[c] || restore_class_dict(w, c)) {
            return fail(w, "a copy of a class dict");
        }
    }
    w->key_k = PyUnicode_InternFromString("k");
    for (int c = 0; c < FTF_CLASSES; c++) {
        (void)_PyType_Lookup((PyTypeObject *)w->classes[c], w->key_k); /* gives it a version */
        w->class_versions[c] = ((PyTypeObject *)w->classes[c])->tp_version_tag;
    }
    w->load_class_attr_fn = PyDict_GetItemString(w->ns, "load_k");
    w->drain_fn = PyDict_GetItemString(w->ns, "drain");
    w->collect_fn = PyDict_GetItemString(w->ns, "collect");
    w->key_class = PyUnicode_InternFromString("__class__");
    for (int i = 0; i < FTF_REPEAT; i++) {
        w->churn_keys[i] = PyUnicode_FromFormat("_churn%d", i);
    }
    PyObject *types[FTF_POOL_COUNT] = {
        [FTF_POOL_SLOTS] = w->slots_type, [FTF_POOL_MEMBERS] = w->members_type,
        [FTF_POOL_CLASS] = w->classes[0]};
    for (int p = FTF_POOL_SLOTS; p < FTF_POOL_COUNT; p++) {
        w->nattrs[p] = targets_nattrs(p);
        if (p == FTF_POOL_GLOBALS) {
            continue;
        }
        for (int i = 0; i < w->nattrs[p]; i++) {
            w->attr_names[p][i] = PyUnicode_InternFromString(targets_attr_name(p, i));
            w->memberdefs[p][i] = member_def(types[p], w->attr_names[p][i]);
            if (!w->memberdefs[p][i]) {
                return fail(w, "a member descriptor");
            }
            w->offsets[p][i] = w->memberdefs[p][i]->offset;
        }
        if (define_attr_functions(w, p)) {
            return fail(w, "the attribute functions");
        }
    }
    if (define_global_functions(w)) {
        return fail(w, "the LOAD_GLOBAL functions");
    }
    /* Restored once now, as the class dicts are above. */
    w->gns_clean = PyDict_Copy(w->gns);
    w->bns_clean = PyDict_Copy(w->bns);
    if (!w->gns_clean || !w->bns_clean || restore_dict(w->gns, w->gns_clean) ||
        restore_dict(w->bns, w->bns_clean)) {
        return fail(w, "a copy of the LOAD_GLOBAL functions' dicts");
    }
    return 0;
}

static int set_item(ftf_world_t *w, PyObject *dict, int name, PyObject *v)
{
    return PyDict_SetItem(dict, w->attr_names[FTF_POOL_GLOBALS][name], v);
}

int world_collect(ftf_world_t *w)
{
    PyObject *r = PyObject_CallNoArgs(w->collect_fn);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

int world_setup(ftf_world_t *w, ftf_run_t *run)
{
    PyObject **c = run->pinned;
    for (int i = 0; i < FTF_POOL_OBJS; i++) {
        w->objs[FTF_POOL_SLOTS][i] = PyObject_CallNoArgs(w->slots_type);
        w->objs[FTF_POOL_MEMBERS][i] = PyObject_CallNoArgs(w->members_type);
        w->objs[FTF_POOL_CLASS][i] = PyObject_CallNoArgs(w->classes[0]);
        if (!must(w, w->objs[FTF_POOL_SLOTS][i] && w->objs[FTF_POOL_MEMBERS][i] &&
                  w->objs[FTF_POOL_CLASS][i], "instances")) {
            return -1;
        }
    }
    bool ok =
        must(w, !PyObject_SetAttr(w->objs[FTF_POOL_SLOTS][0], w->attr_names[FTF_POOL_SLOTS][0], c[0]) &&
                !PyObject_SetAttr(w->objs[FTF_POOL_SLOTS][1], w->attr_names[FTF_POOL_SLOTS][1], c[1]) &&
                !PyObject_SetAttr(w->objs[FTF_POOL_MEMBERS][0], w->attr_names[FTF_POOL_MEMBERS][0], c[2]) &&
                !PyObject_SetAttr(w->objs[FTF_POOL_MEMBERS][1], w->attr_names[FTF_POOL_MEMBERS][1], c[3]) &&
                !PyObject_SetAttr(w->objs[FTF_POOL_CLASS][0], w->attr_names[FTF_POOL_CLASS][0], c[0]),
             "initial slot values") &&
        must(w, !set_item(w, w->gns, 0, c[0]) && !set_item(w, w->gns, 1, c[1]) &&
                !set_item(w, w->gns, 3, c[2]) && !set_item(w, w->bns, 2, c[3]) &&
                !set_item(w, w->bns, 3, c[0]), "initial bindings");
    return ok ? 0 : -1;
}

static int holder_dicts(ftf_world_t *w, PyObject **dicts, const char **names)
{
    dicts[0] = w->gns, names[0] = "globals";
    dicts[1] = w->bns, names[1] = "builtins";
    return 2;
}

int world_teardown(ftf_world_t *w)
{
    for (int p = FTF_POOL_SLOTS; p < FTF_POOL_GLOBALS; p++) {
        for (int i = 0; i < FTF_POOL_OBJS; i++) {
            PyObject *o = w->objs[p][i];
            /* Cleared by hand: the instance itself may outlive this input in a
             * biased-refcount queue, and must not drag this input's values along. */
            for (int a = 0; a < w->nattrs[p]; a++) {
                PyObject **cell = (PyObject **)((char *)o + w->offsets[p][a]);
                Py_CLEAR(*cell);
            }
            Py_CLEAR(w->objs[p][i]);
        }
    }
    /* Back to the class statements: A.k = B.k = None, C without k. Only where an op
     * changed them: any change of a class gives it a new type version, and the slot
     * instructions specialized for the old one would miss their guard in every later
     * input (generic code racing, until 52 misses respecialize them). So the classes
     * start each input unchanged, with k None, and only the input's own class ops
     * change their versions. */
    for (int c = 0; c < FTF_CLASSES; c++) {
        if (!class_dict_changed(w, c)) {
            continue;
        }
        if (!must(w, restore_class_dict(w, c) == 0, "class reset")) {
            return -1;
        }
        /* Every change of a class spends one of its type versions, and CPython gives a
         * class at most MAX_VERSIONS_PER_CLASS (1000) before it stops specializing code
         * that uses it for good: a few hundred inputs in, the class ops would race
         * generic code only, and a finding would not replay in a fresh process. Each
         * input gets the budget of a fresh process instead. */
        ((PyTypeObject *)w->classes[c])->tp_versions_used = 0;
        /* And the version a fresh process gives it. A new one would be extra scheduling
         * points where a lookup inside the next run assigns it, and the type attribute
         * cache files a class's entries by version: other slots, other collisions, and
         * a serialized schedule's switches would land elsewhere after some inputs than
         * in a fresh process. The old version is safe to give back: everything CPython
         * keyed on it describes this dict, which is back as it was. (The free-threaded
         * build keeps no table from versions to types that would need it too.) */
        ((PyTypeObject *)w->classes[c])->tp_version_tag = w->class_versions[c];
    }
    /* Rebuilt from the clean copies rather than the inputs' names deleted: a copy of a
     * dict with deleted entries was built entry by entry, inside a critical section
     * nested in another on the same dict (PyDict_Copy on 3.13), a quarter of a
     * serialized run's time. */
    return must(w, restore_dict(w->gns, w->gns_clean) == 0 && restore_dict(w->bns, w->bns_clean) == 0,
                "globals and builtins reset")
               ? 0
               : -1;
}

int world_holders(ftf_world_t *w, ftf_holder_t *out, int cap)
{
    int n = 0;
    for (int p = FTF_POOL_SLOTS; p < FTF_POOL_GLOBALS; p++) {
        for (int i = 0; i < FTF_POOL_OBJS; i++) {
            for (int a = 0; a < w->nattrs[p] && n < cap; a++, n++) {
                out[n] = (ftf_holder_t){
                    .cell = (PyObject **)((char *)w->objs[p][i] + w->offsets[p][a]), .global = -1};
                snprintf(out[n].name, sizeof(out[n].name), "%s obj%d.%s", pool_prefix[p], i,
                         targets_attr_name(p, a));
            }
        }
    }
    for (int c = 0; c < FTF_CLASSES && n < cap; c++, n++) {
        out[n] = (ftf_holder_t){
            .dict = ((PyTypeObject *)w->classes[c])->tp_dict, .key = w->key_k, .global = -1};
        snprintf(out[n].name, sizeof(out[n].name), "%s.k", targets_class_name(c));
    }
    PyObject *dicts[2];
    const char *dnames[2];
    int nd = holder_dicts(w, dicts, dnames);
    for (int d = 0; d < nd; d++) {
        for (int i = 0; i < w->nattrs[FTF_POOL_GLOBALS] && n < cap; i++, n++) {
            out[n] = (ftf_holder_t){
                .dict = dicts[d], .key = w->attr_names[FTF_POOL_GLOBALS][i], .global = i};
            snprintf(out[n].name, sizeof(out[n].name), "%s %s", dnames[d],
                     targets_attr_name(FTF_POOL_GLOBALS, i));
        }
    }
    return n;
}

const char *world_find_cell(ftf_world_t *w, PyObject *v)
{
    static _Thread_local char name[64];
    for (int p = FTF_POOL_SLOTS; p < FTF_POOL_GLOBALS; p++) {
        for (int i = 0; i < FTF_POOL_OBJS; i++) {
            PyObject *o = w->objs[p][i];
            for (int a = 0; o && a < w->nattrs[p]; a++) {
                PyObject **cell = (PyObject **)((char *)o + w->offsets[p][a]);
                if (_Py_atomic_load_ptr_relaxed(cell) == v) {
                    snprintf(name, sizeof(name), "%s obj%d.%s", pool_prefix[p], i,
                             targets_attr_name(p, a));
                    return name;
                }
            }
        }
    }
    return NULL;
}

/* Compares addresses only: safe on a lock another thread holds or waits for. */
void world_describe_lock(ftf_world_t *w, const void *lock, char *buf, size_t len)
{
    struct {
        PyObject *o;
        const char *what;
    } known[] = {{w->gns, "globals of the fuzz module"},
                 {w->bns, "builtins copy"},
                 {w->ns, "namespace of the attribute functions"},
                 {w->slots_type, "class Slots"},
                 {w->members_type, "type Members"}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (known[i].o && lock == &known[i].o->ob_mutex) {
            snprintf(buf, len, "%s", known[i].what);
            return;
        }
    }
    for (int c = 0; c < FTF_CLASSES; c++) {
        if (w->classes[c] && lock == &w->classes[c]->ob_mutex) {
            snprintf(buf, len, "class %s", targets_class_name(c));
            return;
        }
    }
    for (int p = FTF_POOL_SLOTS; p < FTF_POOL_GLOBALS; p++) {
        for (int i = 0; i < FTF_POOL_OBJS; i++) {
            if (w->objs[p][i] && lock == &w->objs[p][i]->ob_mutex) {
                snprintf(buf, len, "%s obj%d", pool_prefix[p], i);
                return;
            }
        }
    }
    snprintf(buf, len, "lock at %p", lock);
}
