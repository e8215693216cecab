/* ftf_profile_report: where the workers of a set of programs waited for locks, from the
 * wait oracle's account of each run. Serialized programs wait the same way in every
 * process, so two CPython builds given the same programs compare line for line. */
#include <string.h>

#include "internal.h"

#define MAX_ROWS 64
#define LONGEST 10

typedef struct {
    char key[96];
    int waits;
    int64_t length;
} row_t;

typedef struct {
    oracle_wait_t wait;
    int prog;
} longest_t;

static void add(row_t *rows, int *n, const char *key, int64_t length)
{
    int i = 0;
    while (i < *n && strcmp(rows[i].key, key) != 0) {
        i++;
    }
    if (i == *n) {
        if (*n == MAX_ROWS) {
            key = "(others)";
            for (i = 0; i < *n && strcmp(rows[i].key, key) != 0; i++) {
            }
        }
        if (i == *n) {
            snprintf(rows[i].key, sizeof(rows[i].key), "%s", key);
            (*n)++;
        }
    }
    rows[i].waits++;
    rows[i].length += length;
}

static int by_waits(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    return x->waits != y->waits ? y->waits - x->waits : strcmp(x->key, y->key);
}

static void print_rows(FILE *out, const char *title, row_t *rows, int n, int ops, const char *unit)
{
    qsort(rows, (size_t)n, sizeof(row_t), by_waits);
    fprintf(out, "%-48s %7s %12s %12s\n", title, "waits", "per 1000 ops", unit);
    for (int i = 0; i < n; i++) {
        fprintf(out, "  %-46s %7d %12.1f %12lld\n", rows[i].key, rows[i].waits,
                1000.0 * rows[i].waits / (ops ? ops : 1), (long long)rows[i].length);
    }
}

/* A lock the world does not own is named by its address, which differs between
 * processes: the profile names it by kind instead. */
static const char *lock_key(const oracle_wait_t *w)
{
    if (w->spin) {
        return "no lock: a retry loop spun out its budget";
    }
    if (!w->mutex) {
        return "an event (stop-the-world, a join, ...)";
    }
    return strncmp(w->lock_name, "lock at ", 8) == 0 ? "a mutex the world does not own" : w->lock_name;
}

int ftf_profile_report(ftf_program_t *const *progs, const char *const *names, int n, FILE *out)
{
    static row_t locks[MAX_ROWS], fns[MAX_ROWS];
    static longest_t longest[LONGEST];
    int nlocks = 0, nfns = 0, nlongest = 0, ops = 0, waits = 0, dropped = 0;
    int64_t total = 0;
    for (int p = 0; p < n; p++) {
        if (progs[p]->mode != progs[0]->mode) {
            fprintf(stderr, "ftfuzz: %s is a %s program and %s is not: profile one mode at a "
                            "time (waits are counted in points in one, nanoseconds in the other)\n",
                    names[0], progs[0]->mode == FTF_MODE_SERIAL ? "serialized" : "free-mode",
                    names[p]);
            return -1;
        }
        runner_run(progs[p], NULL);
        ops += progs[p]->nops;
        int k = oracle_waits_count();
        waits += k;
        for (int i = 0; i < k; i++) {
            const oracle_wait_t *w = oracle_waits_get(i);
            if (!w) {
                dropped += k - i;
                break;
            }
            total += w->length;
            add(locks, &nlocks, lock_key(w), w->length);
            add(fns, &nfns, w->function ? w->function : "(unknown)", w->length);
            int slot;
            if (nlongest < LONGEST) {
                slot = nlongest++;
            }
            else if (w->length > longest[LONGEST - 1].wait.length) {
                slot = LONGEST - 1;
            }
            else {
                continue; /* no longer than the ten kept */
            }
            longest[slot] = (longest_t){*w, p};
            for (int j = slot; j > 0 && longest[j].wait.length > longest[j - 1].wait.length; j--) {
                longest_t t = longest[j];
                longest[j] = longest[j - 1];
                longest[j - 1] = t;
            }
        }
    }
    const char *unit = progs[0]->mode == FTF_MODE_SERIAL ? "points" : "ns";
    fprintf(out, "contention profile: %d programs, %d ops, %d waits (%.1f per 1000 ops), "
                 "%lld %s waited in all; policy FTFUZZ_NO_WAIT_IN=%s\n",
            n, ops, waits, 1000.0 * waits / (ops ? ops : 1), (long long)total, unit,
            oracle_waits_policy());
    if (dropped) {
        fprintf(out, "(%d waits of runs with too many to keep are counted, not classified)\n", dropped);
    }
    print_rows(out, "by lock", locks, nlocks, ops, unit);
    print_rows(out, "by waiting function", fns, nfns, ops, unit);
    fprintf(out, "longest waits:\n");
    for (int i = 0; i < nlongest; i++) {
        const oracle_wait_t *w = &longest[i].wait;
        const ftf_program_t *prog = progs[longest[i].prog];
        char holder[24] = "holder not known";
        if (w->holder >= 0) {
            snprintf(holder, sizeof(holder), "held by t%d op %d", w->holder, w->holder_op);
        }
        fprintf(out, "  %8lld %s  t%d op %d (%s) in %s for %s, %s  [%s]\n", (long long)w->length,
                unit, w->waiter, w->waiter_op,
                w->waiter_op >= 0 ? targets_table(prog->target)->ops[prog->ops[w->waiter_op].code]->name
                                  : "between ops",
                w->function ? w->function : "(unknown)", lock_key(w), holder, names[longest[i].prog]);
    }
    return waits;
}
