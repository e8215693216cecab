/* Which form the hot instruction of an op has on one worker's own copy of its bytecode.
 *
 * From 3.14 the free-threaded build specializes, and each thread runs a copy of a
 * function's bytecode of its own (thread-local bytecode) that only it specializes: a
 * warm-up on one thread says nothing about another. So the form is read from the copy of
 * the worker asked about, through the interpreter's internal header; a CPython whose
 * free-threaded build does not specialize (3.13) is detected from that header too, and
 * every op then reads as having no specialized form. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include "internal/pycore_code.h"
#include "internal/pycore_typeobject.h"
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#if defined(ENABLE_SPECIALIZATION_FT) && ENABLE_SPECIALIZATION_FT
#define HAVE_FT_SPECIALIZATION 1
#else
#define HAVE_FT_SPECIALIZATION 0
#endif

#define MAX_HOT 64

/* An op's hot instruction: in which function, at which offset, of which base opcode. */
typedef struct {
    PyObject *fn;
    const char *base;
    PyObject *name;
    int offset; /* in code units; -1: not found */
} hot_t;

static struct {
    const char *opnames[256];
    PyObject *specializations; /* opcode._specializations: base name -> specialized names */
    hot_t hot[MAX_HOT];
    int nhot;
    PyObject *finder;
} S;

bool specialization_supported(void) { return HAVE_FT_SPECIALIZATION; }

#if HAVE_FT_SPECIALIZATION
/* The bytecode of the world's functions on every worker, as the warm-up left it. */
#define MAX_SNAPSHOT (FTF_POOL_COUNT * 4 * 3 + 2)
static struct {
    PyCodeObject *code[MAX_SNAPSHOT];
    _Py_CODEUNIT *copy[MAX_SNAPSHOT][FTF_MAX_THREADS];
    int n;
    PyTypeObject *classes[FTF_CLASSES];
    unsigned int versions[FTF_CLASSES];
} snap;

static int world_functions(ftf_world_t *w, PyObject **out)
{
    int n = 0;
    for (int p = 0; p < FTF_POOL_COUNT; p++) {
        for (int a = 0; a < 4; a++) {
            PyObject *fns[3] = {w->store_fn[p][a], w->load_fn[p][a], w->delete_fn[p][a]};
            for (int k = 0; k < 3; k++) {
                if (fns[k]) {
                    out[n++] = fns[k];
                }
            }
        }
    }
    out[n++] = w->load_class_attr_fn;
    out[n++] = w->drain_fn;
    return n;
}
#endif

void specialization_snapshot(ftf_world_t *w)
{
#if HAVE_FT_SPECIALIZATION
    PyObject *fns[MAX_SNAPSHOT];
    int n = world_functions(w, fns);
    for (int i = 0; i < n; i++) {
        PyCodeObject *co = (PyCodeObject *)PyFunction_GET_CODE(fns[i]);
        snap.code[i] = co;
        for (int t = 0; t < FTF_MAX_THREADS; t++) {
            _Py_CODEUNIT *code = _PyCode_GetTLBCFast(runtime_worker_tstate(t), co);
            snap.copy[i][t] = code ? malloc(_PyCode_NBYTES(co)) : NULL;
            if (snap.copy[i][t]) {
                memcpy(snap.copy[i][t], code, _PyCode_NBYTES(co));
            }
        }
    }
    snap.n = n;
    for (int c = 0; c < FTF_CLASSES; c++) {
        /* Versioned: world_teardown gives a class it changed a version again. */
        snap.classes[c] = (PyTypeObject *)w->classes[c];
        snap.versions[c] = snap.classes[c]->tp_version_tag;
    }
#else
    (void)w;
#endif
}

void specialization_restore(void)
{
#if HAVE_FT_SPECIALIZATION
    /* The slot instructions cache their class's type version. An input that changed a
     * class gave it a new one, though the teardown put back the class statement's
     * contents (world_teardown): the warm-up's version describes them again. */
    for (int c = 0; c < FTF_CLASSES; c++) {
        if (snap.versions[c] && snap.classes[c]->tp_version_tag != snap.versions[c]) {
            _PyType_SetVersion(snap.classes[c], snap.versions[c]);
        }
    }
    for (int i = 0; i < snap.n; i++) {
        for (int t = 0; t < FTF_MAX_THREADS; t++) {
            _Py_CODEUNIT *code = _PyCode_GetTLBCFast(runtime_worker_tstate(t), snap.code[i]);
            if (code && snap.copy[i][t]) {
                memcpy(code, snap.copy[i][t], _PyCode_NBYTES(snap.code[i]));
            }
        }
    }
#endif
}

/* The names of every opcode, specialized ones included, as the opcode module has them. */
static int load_opnames(void)
{
    PyObject *mod = PyImport_ImportModule("opcode");
    PyObject *names = mod ? PyObject_GetAttrString(mod, "opname") : NULL;
    PyObject *spec = mod ? PyObject_GetAttrString(mod, "_specialized_opmap") : NULL;
    int ok = names && PyList_Check(names);
    for (Py_ssize_t i = 0; ok && i < PyList_GET_SIZE(names) && i < 256; i++) {
        S.opnames[i] = PyUnicode_AsUTF8(PyList_GET_ITEM(names, i));
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (ok && spec && PyDict_Check(spec) && PyDict_Next(spec, &pos, &k, &v)) {
        long op = PyLong_AsLong(v);
        if (op >= 0 && op < 256) {
            S.opnames[op] = PyUnicode_AsUTF8(k);
        }
    }
    S.specializations = mod ? PyObject_GetAttrString(mod, "_specializations") : NULL;
    ok = ok && S.specializations && PyDict_Check(S.specializations);
    /* The names live as long as the module's lists, which the module keeps. */
    Py_XDECREF(names);
    Py_XDECREF(spec);
    Py_XDECREF(mod);
    return ok ? 0 : -1;
}

/* The offset of the first `base` instruction whose argument is `name`, by dis. */
static int find_offset(PyObject *fn, const char *base, PyObject *name)
{
    if (!S.finder) {
        PyObject *ns = PyDict_New();
        PyObject *r = ns ? PyRun_String(
            "import dis\n"
            "def find(fn, base, name):\n"
            "    for i in dis.get_instructions(fn):\n"
            "        if i.opname == base and i.argval == name:\n"
            "            return i.offset // 2\n"
            "    return -1\n", Py_file_input, ns, ns) : NULL;
        Py_XDECREF(r);
        S.finder = r ? Py_XNewRef(PyDict_GetItemString(ns, "find")) : NULL;
        Py_XDECREF(ns);
        if (!S.finder || load_opnames() < 0) {
            PyErr_Print();
            return -1;
        }
    }
    PyObject *r = PyObject_CallFunction(S.finder, "OsO", fn, base, name);
    int off = r ? (int)PyLong_AsLong(r) : -1;
    Py_XDECREF(r);
    if (PyErr_Occurred()) {
        PyErr_Print();
    }
    return off;
}

/* The function and instruction an op races through, or NULL for an op that runs no
 * bytecode of its own (the C-API paths, __class__ assignment, barriers). */
static const hot_t *hot_of(ftf_world_t *w, const ftf_op_desc_t *d, int attr)
{
    PyObject *fn = NULL, *name = NULL;
    const char *base = NULL;
    if (d->family == FTF_FAMILY_ATTR && d->variant % 4 == FTF_PATH_BYTECODE) {
        static const char *const bases[] = {"STORE_ATTR", "LOAD_ATTR", "DELETE_ATTR"};
        int act = d->variant / 4;
        PyObject *const *fns = act == FTF_ACT_STORE ? w->store_fn[d->pool]
                               : act == FTF_ACT_LOAD ? w->load_fn[d->pool]
                                                     : w->delete_fn[d->pool];
        fn = fns[attr], base = bases[act], name = w->attr_names[d->pool][attr];
    }
    else if (d->family == FTF_FAMILY_CLASS_ATTR && d->variant == FTF_ACT_LOAD) {
        fn = w->load_class_attr_fn, base = "LOAD_ATTR", name = w->key_k;
    }
    else if (d->family == FTF_FAMILY_GLOBALS && d->variant == GLOBALS_LOAD) {
        fn = w->load_fn[FTF_POOL_GLOBALS][attr], base = "LOAD_GLOBAL";
        name = w->attr_names[FTF_POOL_GLOBALS][attr];
    }
    if (!fn) {
        return NULL;
    }
    for (int i = 0; i < S.nhot; i++) {
        if (S.hot[i].fn == fn && S.hot[i].base == base) {
            return &S.hot[i];
        }
    }
    if (S.nhot == MAX_HOT) {
        return NULL;
    }
    S.hot[S.nhot] = (hot_t){fn, base, name, find_offset(fn, base, name)};
    return &S.hot[S.nhot++];
}

const char *specialization_form(ftf_world_t *w, const ftf_op_desc_t *d, int attr,
                                PyThreadState *tstate)
{
    const hot_t *h = hot_of(w, d, attr);
    if (!h) {
        return NULL;
    }
    if (h->offset < 0) {
        return "(instruction not found)";
    }
#if HAVE_FT_SPECIALIZATION
    PyCodeObject *co = (PyCodeObject *)PyFunction_GET_CODE(h->fn);
    _Py_CODEUNIT *code = _PyCode_GetTLBCFast(tstate, co);
    if (!code) {
        return "(never run)";
    }
    const char *name = S.opnames[code[h->offset].op.code];
    return name ? name : "(unknown opcode)";
#else
    (void)tstate;
    return h->base;
#endif
}

int specialization_counter(ftf_world_t *w, const ftf_op_desc_t *d, int attr, PyThreadState *tstate)
{
    const hot_t *h = hot_of(w, d, attr);
    if (!h || h->offset < 0) {
        return -1;
    }
#if HAVE_FT_SPECIALIZATION
    _Py_CODEUNIT *code = _PyCode_GetTLBCFast(tstate, (PyCodeObject *)PyFunction_GET_CODE(h->fn));
    /* The first cache entry of LOAD_ATTR, STORE_ATTR and LOAD_GLOBAL is the counter. */
    return code ? code[h->offset + 1].counter.value_and_backoff >> BACKOFF_BITS : -1;
#else
    (void)tstate;
    return -1;
#endif
}

const char *specialization_base(ftf_world_t *w, const ftf_op_desc_t *d, int attr)
{
    const hot_t *h = hot_of(w, d, attr);
    return h ? h->base : NULL;
}

bool specialization_exists(const char *base)
{
    PyObject *forms = S.specializations ? PyDict_GetItemString(S.specializations, base) : NULL;
    return HAVE_FT_SPECIALIZATION && forms && PyObject_Length(forms) > 0;
}
