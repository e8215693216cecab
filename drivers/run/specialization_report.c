/* `ftfuzz specialization`: whether the races reach the specialized code. For each op of a
 * target that runs bytecode of its own, the form its hot instruction has on every
 * worker's copy after the warm-up, then, while programs run, how often it missed (an
 * execution of the specialized form whose guard failed runs the generic code: a deopt)
 * and specialized again. Both are read after each op from the instruction's adaptive
 * counter, which each miss counts down and a respecialization restarts: a restart
 * counts as the misses down to zero before it, so misses are a lower bound. */
#include <string.h>

#include "internal.h"

#define MAX_ATTRS 4

static struct {
    const ftf_table_t *table;
    const char *last[FTF_MAX_OPS * 4][MAX_ATTRS][FTF_MAX_THREADS];
    int deopts[FTF_MAX_OPS * 4][MAX_ATTRS][FTF_MAX_THREADS];
    int respecs[FTF_MAX_OPS * 4][MAX_ATTRS][FTF_MAX_THREADS];
    int counter[FTF_MAX_OPS * 4][MAX_ATTRS][FTF_MAX_THREADS];
} R;

static bool is_specialized(const char *form, const char *base)
{
    return form && base && strcmp(form, base) != 0 && form[0] != '(';
}

static int attrs_of(ftf_world_t *w, const ftf_op_desc_t *d)
{
    return (d->uses & FTF_USES_ATTR) ? w->nattrs[d->pool] : 1;
}

/* Called by a worker after each of its ops: a form and a counter read. */
static void after_op(ftf_run_t *run, int tid, int i)
{
    const ftf_op_t *op = &run->prog->ops[i];
    const ftf_op_desc_t *d = run->table->ops[op->code];
    int attr = ftf_arg_attr(op->arg) % attrs_of(run->world, d);
    const char *base = specialization_base(run->world, d, attr);
    if (!base) {
        return;
    }
    const char *now = specialization_form(run->world, d, attr, PyThreadState_Get());
    const char *was = R.last[op->code][attr][tid];
    int count = specialization_counter(run->world, d, attr, PyThreadState_Get());
    int before = R.counter[op->code][attr][tid];
    if (is_specialized(was, base) && is_specialized(now, base) && before >= 0 && count >= 0) {
        if (count < before) {
            R.deopts[op->code][attr][tid] += before - count;
        }
        else if (count > before) {
            R.deopts[op->code][attr][tid] += before + 1;
            R.respecs[op->code][attr][tid]++;
        }
    }
    else if (is_specialized(was, base) != is_specialized(now, base)) {
        R.respecs[op->code][attr][tid] += is_specialized(now, base);
        R.deopts[op->code][attr][tid] += is_specialized(was, base);
    }
    R.last[op->code][attr][tid] = now;
    R.counter[op->code][attr][tid] = count;
}

/* One line per op and attribute: the forms per worker, and the changes seen in runs. */
static int print_table(ftf_world_t *w, int nprogs, FILE *out)
{
    int missing = 0;
    for (int code = 0; code < R.table->nops; code++) {
        const ftf_op_desc_t *d = R.table->ops[code];
        for (int attr = 0; attr < attrs_of(w, d); attr++) {
            const char *base = specialization_base(w, d, attr);
            if (!base) {
                continue;
            }
            char who[40];
            snprintf(who, sizeof(who), "%s%s%s", d->name, (d->uses & FTF_USES_ATTR) ? " " : "",
                     (d->uses & FTF_USES_ATTR) ? targets_attr_name(d->pool, attr) : "");
            bool can = specialization_exists(base);
            fprintf(out, "%-30s %-12s", who, base);
            int deopts = 0, respecs = 0;
            for (int t = 0; t < FTF_MAX_THREADS; t++) {
                const char *f = specialization_form(w, d, attr, runtime_worker_tstate(t));
                bool sp = is_specialized(f, base);
                fprintf(out, " t%d=%s", t, sp ? f + strlen(base) + (f[strlen(base)] == '_') : f);
                missing += can && !sp;
                deopts += R.deopts[code][attr][t];
                respecs += R.respecs[code][attr][t];
            }
            if (!can) {
                fprintf(out, "  (no specialized forms)");
            }
            if (nprogs) {
                fprintf(out, "  misses %d respecialized %d", deopts, respecs);
            }
            fputc('\n', out);
        }
    }
    return missing;
}

int ftf_specialization_report(ftf_target_t target, ftf_program_t *const *progs, int nprogs,
                              int runs, FILE *out)
{
    ftf_init();
    ftf_world_t *w = runtime_world();
    memset(&R, 0, sizeof(R));
    R.table = targets_table(target);
    PyGILState_STATE g = PyGILState_Ensure();
    fprintf(out, "ftfuzz specialization: CPython %s, target %s, %d workers; %s\n", PY_VERSION,
            ftf_target_name(target), FTF_MAX_THREADS,
            specialization_supported() ? "each worker's own copy of the bytecode"
                                       : "this free-threaded build does not specialize");
    fprintf(out, "after the warm-up (t<N>=specialized form, base name: generic):\n");
    for (int code = 0; code < R.table->nops; code++) {
        const ftf_op_desc_t *d = R.table->ops[code];
        for (int attr = 0; attr < attrs_of(w, d); attr++) {
            for (int t = 0; t < FTF_MAX_THREADS; t++) {
                R.last[code][attr][t] = specialization_form(w, d, attr, runtime_worker_tstate(t));
                R.counter[code][attr][t] = specialization_counter(w, d, attr, runtime_worker_tstate(t));
            }
        }
    }
    int missing = print_table(w, 0, out);
    PyGILState_Release(g);
    if (nprogs) {
        for (int r = 0; r < runs; r++) {
            for (int i = 0; i < nprogs; i++) {
                runner_run(progs[i], after_op);
            }
        }
        g = PyGILState_Ensure();
        fprintf(out, "after %d run%s of %d program%s (changes seen after each op):\n", runs,
                runs == 1 ? "" : "s", nprogs, nprogs == 1 ? "" : "s");
        print_table(w, nprogs, out);
        PyGILState_Release(g);
    }
    fprintf(out, "%d op/worker pair%s generic after the warm-up where CPython can specialize\n",
            missing, missing == 1 ? "" : "s");
    return missing;
}
