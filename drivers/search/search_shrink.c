/* Shrinking a failing program: each candidate is one simplification smaller, so a
 * minimiser can try them in turn and keep any that still fails. Cheapest wins first:
 * fewer switches, then fewer ops, then no repeats, then fewer threads. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static ftf_program_t *copy(const ftf_program_t *p)
{
    ftf_program_t *c = malloc(sizeof(*c));
    memcpy(c, p, sizeof(*c));
    return c;
}

/* Drops switch i; the next switch keeps its place (its gap absorbs the dropped one's). */
static ftf_program_t *without_switch(const ftf_program_t *p, int i)
{
    ftf_program_t *c = copy(p);
    if (i + 1 < c->nswitches) {
        unsigned gap = (unsigned)c->switches[i].gap + c->switches[i + 1].gap;
        c->switches[i + 1].gap = (uint16_t)(gap > UINT16_MAX ? UINT16_MAX : gap);
    }
    memmove(c->switches + i, c->switches + i + 1, sizeof(ftf_switch_t) * (size_t)(c->nswitches - 1 - i));
    c->nswitches--;
    return c;
}

static ftf_program_t *without_op(const ftf_program_t *p, int i)
{
    ftf_program_t *c = copy(p);
    memmove(c->ops + i, c->ops + i + 1, sizeof(ftf_op_t) * (size_t)(c->nops - 1 - i));
    c->nops--;
    return c;
}

static bool thread_idle(const ftf_program_t *p, int t)
{
    for (int i = 0; i < p->nops; i++) {
        if (p->ops[i].thread == t) {
            return false;
        }
    }
    return true;
}

/* Removes thread t, which runs no op; the threads above it move down one. */
static ftf_program_t *without_thread(const ftf_program_t *p, int t)
{
    ftf_program_t *c = copy(p);
    c->nthreads--;
    for (int i = 0; i < c->nops; i++) {
        c->ops[i].thread -= c->ops[i].thread > t;
    }
    int k = 0;
    for (int i = 0; i <= c->nthreads; i++) {
        if (p->priority[i] != t) {
            c->priority[k++] = (uint8_t)(p->priority[i] - (p->priority[i] > t));
        }
    }
    for (int i = 0; i < c->nswitches; i++) {
        int to = c->switches[i].thread;
        c->switches[i].thread = (uint8_t)((to == t ? to : to - (to > t)) % c->nthreads);
    }
    return c;
}

ftf_program_t *ftf_program_shrink(const ftf_program_t *p, int step)
{
    if (step < p->nswitches) {
        return without_switch(p, step);
    }
    step -= p->nswitches;
    if (step < p->nops) {
        return without_op(p, p->nops - 1 - step); /* later ops first: they matter less */
    }
    step -= p->nops;
    for (int i = 0; i < p->nops; i++) {
        const ftf_op_desc_t *d = targets_table(p->target)->ops[p->ops[i].code];
        if ((d->uses & FTF_USES_REPEAT) && ftf_arg_repeat(p->ops[i].arg) > 1 && step-- == 0) {
            ftf_program_t *c = copy(p);
            c->ops[i].arg &= 0x7f;
            return c;
        }
    }
    for (int t = p->nthreads - 1; t >= 0 && p->nthreads > FTF_MIN_THREADS; t--) {
        if (thread_idle(p, t) && step-- == 0) {
            return without_thread(p, t);
        }
    }
    return NULL;
}
