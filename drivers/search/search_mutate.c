/* Schedule-aware mutation for the serialized fuzzers (their LLVMFuzzerCustomMutator).
 *
 * Why: libFuzzer's byte mutations mostly change what a program is, not when its
 * threads switch. The thread-count byte renumbers every op's thread, an inserted or
 * erased byte shifts every later op, and a changed op byte drops the racing op; so an
 * input that already puts a reader and a writer on one slot loses that pairing before
 * its switches are tuned into the window, which is one scheduling point wide. Here most
 * mutations decode the input, change one thing of the schedule or one op, and encode it
 * again: a switch moves by a few points (the next atomic over), goes to another thread,
 * appears or disappears; two threads trade priority; one op changes, is copied or is
 * dropped. The rest are libFuzzer's own byte mutations, so nothing the byte-level
 * mutator could reach is out of reach.
 *
 * The choices come from the seed libFuzzer passes, so a mutation replays with it. */
#include <string.h>

#include "internal.h"

typedef struct {
    uint64_t s;
} rng_t;

static unsigned below(rng_t *r, unsigned n)
{
    r->s ^= r->s << 13, r->s ^= r->s >> 7, r->s ^= r->s << 17;
    return n ? (unsigned)(r->s % n) : 0;
}

/* Mostly short gaps: a new switch lands within the next few thousand points, where the
 * seeds' runs are, each power of two as likely as the next. */
static unsigned any_gap(rng_t *r) { return below(r, 2u << below(r, 12)); }

static void add_switch(rng_t *r, ftf_program_t *p)
{
    if (p->nswitches == FTF_MAX_SWITCHES) {
        return;
    }
    int at = (int)below(r, (unsigned)p->nswitches + 1);
    memmove(p->switches + at + 1, p->switches + at, sizeof(ftf_switch_t) * (size_t)(p->nswitches - at));
    p->switches[at] = (ftf_switch_t){(uint16_t)any_gap(r), (uint8_t)below(r, (unsigned)p->nthreads)};
    p->nswitches++;
}

/* One change to the schedule; false when there was nothing to change. */
static bool mutate_schedule(rng_t *r, ftf_program_t *p)
{
    int kind = (int)below(r, 6);
    if (p->nswitches == 0 || kind == 0) {
        add_switch(r, p);
        return true;
    }
    ftf_switch_t *sw = &p->switches[below(r, (unsigned)p->nswitches)];
    switch (kind) {
    case 1: { /* the next few atomics over: one window is one point wide */
        int g = (int)sw->gap + (below(r, 2) ? 1 : -1) * (1 + (int)below(r, 8));
        sw->gap = (uint16_t)(g < 0 ? 0 : g > UINT16_MAX ? UINT16_MAX : g);
        return true;
    }
    case 2:
        sw->thread = (uint8_t)below(r, (unsigned)p->nthreads);
        return true;
    case 3:
        sw->gap = (uint16_t)any_gap(r);
        return true;
    case 4: {
        int i = (int)(sw - p->switches);
        memmove(sw, sw + 1, sizeof(ftf_switch_t) * (size_t)(p->nswitches - 1 - i));
        p->nswitches--;
        return true;
    }
    default: {
        int a = (int)below(r, (unsigned)p->nthreads), b = (int)below(r, (unsigned)p->nthreads);
        uint8_t t = p->priority[a];
        p->priority[a] = p->priority[b];
        p->priority[b] = t;
        return a != b;
    }
    }
}

/* An op the program did not have: any op of the target, on any thread, any operands. */
static ftf_op_t new_op(rng_t *r, const ftf_program_t *p, ftf_target_t target)
{
    return (ftf_op_t){.thread = (uint8_t)below(r, (unsigned)p->nthreads),
                      .code = (uint8_t)below(r, (unsigned)ftf_target_op_count(target)),
                      .arg = (uint8_t)below(r, 256)};
}

/* One change to one op, keeping every other op and its thread. Ops can appear from
 * nothing, not only as copies: afl-fuzz runs this mutator without byte mutations in the
 * same call, so from an empty start program nothing else would ever give it an op. */
static bool mutate_op(rng_t *r, ftf_program_t *p, ftf_target_t target)
{
    if (p->nops == 0) {
        p->ops[p->nops++] = new_op(r, p, target);
        return true;
    }
    int i = (int)below(r, (unsigned)p->nops);
    ftf_op_t *op = &p->ops[i];
    switch (below(r, 5)) {
    case 0:
        op->thread = (uint8_t)below(r, (unsigned)p->nthreads);
        return true;
    case 1:
        op->code = (uint8_t)below(r, (unsigned)ftf_target_op_count(target));
        return true;
    case 2:
        op->arg ^= (uint8_t)(1u << below(r, 8));
        return true;
    case 3: /* a copy of the op, or a new one, before it */
        if (p->nops == FTF_MAX_OPS) {
            return false;
        }
        memmove(op + 1, op, sizeof(ftf_op_t) * (size_t)(p->nops - i));
        p->nops++;
        if (below(r, 2)) {
            *op = new_op(r, p, target);
        }
        return true;
    default:
        if (p->nops == 1) {
            return false;
        }
        memmove(op, op + 1, sizeof(ftf_op_t) * (size_t)(p->nops - 1 - i));
        p->nops--;
        return true;
    }
}

/* Whether two decoded programs run the same. Some changes of the bytes change nothing
 * that runs (operand bits the op does not use, a thread or op drawn again, a second
 * collection or an op FTFUZZ_AVOID names, which decoding leaves out), and a mutant that
 * runs as its parent did spends an execution on nothing: 17 % of this mutator's did on
 * a mixed program that collects (test_schedule's mutants_differ_from_their_parent), 13 %
 * on a two-op slots program. */
static bool runs_the_same(const ftf_program_t *a, const ftf_program_t *b)
{
    if (a->nthreads != b->nthreads || a->nops != b->nops || a->nswitches != b->nswitches ||
        memcmp(a->priority, b->priority, (size_t)a->nthreads) != 0) {
        return false;
    }
    for (int i = 0; i < a->nswitches; i++) {
        if (a->switches[i].gap != b->switches[i].gap || a->switches[i].thread != b->switches[i].thread) {
            return false;
        }
    }
    for (int i = 0; i < a->nops; i++) {
        const ftf_op_t *x = &a->ops[i], *y = &b->ops[i];
        if (x->thread != y->thread || x->code != y->code) {
            return false;
        }
        if (x->arg != y->arg) {
            char fx[128], fy[128];
            schedule_format_op(a, i, fx, sizeof(fx));
            schedule_format_op(b, i, fy, sizeof(fy));
            if (strcmp(fx, fy) != 0) {
                return false;
            }
        }
    }
    return true;
}

size_t ftf_mutate_serial(ftf_target_t target, uint8_t *data, size_t size, size_t max,
                         unsigned seed, size_t (*mutate_bytes)(uint8_t *, size_t, size_t))
{
    rng_t r = {((uint64_t)seed + 1) * 0x9e3779b97f4a7c15ULL}; /* never 0, seed bits spread */
    unsigned kind = below(&r, 8);
    if (kind >= 7 && mutate_bytes) {
        return mutate_bytes(data, size, max);
    }
    ftf_program_t *parent = ftf_program_decode(target, FTF_MODE_SERIAL, data, size);
    size_t n = 0;
    for (int tries = 0; tries < 8; tries++) {
        ftf_program_t p = *parent;
        /* Switches mean nothing to a program without ops. */
        bool changed = kind < 5 && p.nops ? mutate_schedule(&r, &p) : mutate_op(&r, &p, target);
        size_t m = changed ? ftf_program_encode(&p, data, max) : 0;
        if (!m) {
            continue;
        }
        n = m;
        ftf_program_t *child = ftf_program_decode(target, FTF_MODE_SERIAL, data, n);
        bool same = runs_the_same(child, parent);
        ftf_program_free(child);
        if (!same) {
            break;
        }
    }
    ftf_program_free(parent);
    return n ? n : size;
}
