/* What the serialized scheduler reads and resets inside the interpreter, through its
 * internal headers, so the layout is always the one this CPython has.
 *
 * Before every serialized run, the state one input leaves for the next is put back as a
 * fresh process has it (sched_serial.c says why): an empty type attribute cache and
 * empty free lists on every thread.
 *
 * Why not PyType_ClearCache: it passes a seqlock on each of the cache's 4096 entries,
 * and in an atomics build each of those atomics is a hook call: 260 us of a 700 us run.
 * A run fills a few dozen entries, so only those are emptied, the same way; the rest
 * already read as empty. A CPython whose cache has another shape is emptied by
 * PyType_ClearCache.
 *
 * Why the free lists: an object from a free list skips the allocator and its atomics,
 * so a run would take another path after an input that left objects there.
 *
 * What a collection in the run would find (garbage, queued frees, each thread's own
 * reference counts of types) is not put back here: a run with a collection starts
 * after one (sched_serial.c). */
#define Py_BUILD_CORE 1
#include <Python.h>
/* Its inline helpers leave parameters unused, which -Wextra would say of every build. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "internal/pycore_dict.h"
#pragma GCC diagnostic pop
#include "internal/pycore_gc.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_lock.h"

#include "internal.h"

static void empty_type_cache(PyInterpreterState *interp)
{
#ifdef MCACHE_SIZE_EXP
    struct type_cache *cache = &interp->types.type_cache;
    for (size_t i = 0; i < (size_t)1 << MCACHE_SIZE_EXP; i++) {
        struct type_cache_entry *e = &cache->hashtable[i];
        if (e->version == 0 && e->name == Py_None && e->value == NULL) {
            continue;
        }
        _PySeqLock_LockWrite(&e->sequence);
        e->version = 0;
        Py_SETREF(e->name, Py_None);
        e->value = NULL;
        _PySeqLock_UnlockWrite(&e->sequence);
    }
#else
    (void)interp;
    PyType_ClearCache();
#endif
}

void interp_empty_caches(void)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    empty_type_cache(interp);
    /* The workers are parked between runs: none uses its free lists meanwhile, as in a
     * collection's stop-the-world, where CPython empties them itself. */
    _PyGC_ClearAllFreeLists(interp);
}

Py_ssize_t interp_dict_entries(PyObject *dict) { return ((PyDictObject *)dict)->ma_keys->dk_nentries; }

const bool *interp_world_stopped_flag(void)
{
    return &PyInterpreterState_Get()->stoptheworld.world_stopped;
}
