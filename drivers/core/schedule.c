/* Schedules: fuzz bytes <-> program <-> readable text.
 *
 * Binary format 1 (what the fuzzer mutates):
 *
 *   byte 0        threads = 2 + byte % 7                      (absent: 2 threads)
 *   then up to 64 ops of 4 bytes each, in program order       (a short last op is
 *                                                              zero-padded; more are ignored;
 *                                                              a second gc.collect is left out)
 *     byte 0      thread  = byte % threads
 *     byte 1      op      = byte % ops in the target's table  (targets.c; 0 is barrier)
 *     byte 2      operand: bits 0-1 object, bits 2-3 attribute (or class, or global name),
 *                          bits 4-6 value (0-3 pinned canary c0..c3, 4-5 one fresh canary
 *                          for all the op's stores, 6-7 a fresh canary per store),
 *                          bit 7 repeat the op 16 times
 *     byte 3      delay before the op: bits 0-1 kind (none, spin, yield, sleep),
 *                          bits 2-7 amount (spin 2^(amount % 16) pauses, sleep amount us)
 *
 * The serialized fuzzers (fuzz_*_serial) read a schedule header first, then the same
 * format-1 program (whose delay bytes they ignore: only the header decides timing):
 *
 *   byte 0        switches k = byte % 17
 *   bytes 1-2     priority order: permutation number (u16, little-endian) % threads!
 *   3k bytes      k switches: gap (u16, little-endian): scheduling points since the
 *                 previous switch; thread = byte % threads
 *
 * This is PCT's shape (priorities plus a few change points) with the change points
 * spelled as gaps, so one mutated byte moves one switch and leaves the others where
 * they were. The program keeps its free-mode bytes, so a free-mode input behind a
 * header replays its ops in serialized mode.
 *
 * Every byte string decodes, so the mutator never wastes an input. There is no version
 * byte: it would be the byte the mutator changes to no effect most often. Instead the
 * readable form names the format ("format 1"), the corpus keeps that text beside the
 * bytes, and a test recompiles the text and compares: a format change fails the test
 * until scripts/compile-corpus rewrites the bytes.
 *
 * Readable form, one directive a line, '#' starts a comment:
 *
 *   format 1
 *   target slots
 *   threads 2
 *   t0 slots.store-member obj0.a new x16 spin=64
 *   t0 slots.store-bytecode obj1.b new-each x16
 *   t1 slots.load-bytecode obj0.a yield
 *   t1 barrier
 *
 * and for a serialized program, before the ops:
 *
 *   schedule serial
 *   priority t1 t0          (who runs first, and next when the running thread blocks)
 *   switch +120 t1          (after 120 scheduling points t1 takes the turn)
 *
 * Op lines are in program order; operands an op does not use are not printed and may
 * not be given. Printing normalises: bits that do not matter print as nothing, so
 * text -> bytes -> text is the identity.
 */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FORMAT_VERSION 1

static int factorial(int n) { return n <= 1 ? 1 : n * factorial(n - 1); }

/* The permutation numbered `index` (Lehmer code), and its inverse. */
static void permutation_from_index(unsigned index, int n, uint8_t *out)
{
    uint8_t left[FTF_MAX_THREADS];
    for (int i = 0; i < n; i++) {
        left[i] = (uint8_t)i;
    }
    index %= (unsigned)factorial(n);
    for (int i = 0; i < n; i++) {
        int f = factorial(n - 1 - i), k = (int)(index / (unsigned)f);
        index %= (unsigned)f;
        out[i] = left[k];
        memmove(left + k, left + k + 1, (size_t)(n - 1 - i - k));
    }
}

static unsigned permutation_index(const uint8_t *perm, int n)
{
    unsigned index = 0;
    for (int i = 0; i < n; i++) {
        int smaller_later = 0;
        for (int j = i + 1; j < n; j++) {
            smaller_later += perm[j] < perm[i];
        }
        index += (unsigned)(smaller_later * factorial(n - 1 - i));
    }
    return index;
}

#define SERIAL_HEADER 3
#define SWITCH_BYTES 3

static ftf_program_t *decode_program(ftf_target_t target, const uint8_t *data, size_t size);

/* ---- ops left out of fuzz inputs (FTFUZZ_AVOID) ------------------------------------
 * A known CPython bug that a fuzzer meets every few hundred inputs ends each job before
 * it gets deep (3.13's _Py_T_OBJECT use-after-free and fuzz_members). FTFUZZ_AVOID, an
 * extended regular expression, leaves out of every decoded input the ops whose printed
 * form, name and operands without the delay ("members.load-member obj0.obj x16"),
 * matches. Text programs keep every op: they say what runs. Matching is done once per
 * target for each op byte and operand byte, so decoding pays one table lookup. */

static struct {
    bool read, on;
    const char *pattern;
    regex_t re;
    uint8_t *left_out[FTF_TARGET_COUNT]; /* [op byte * 256 + operand byte] */
} avoid;

static void read_avoid(void)
{
    if (!avoid.read) {
        avoid.read = true;
        avoid.pattern = getenv("FTFUZZ_AVOID");
        if (avoid.pattern && *avoid.pattern) {
            int rc = regcomp(&avoid.re, avoid.pattern, REG_EXTENDED | REG_NOSUB);
            if (rc != 0) {
                char why[160];
                regerror(rc, &avoid.re, why, sizeof(why));
                fprintf(stderr, "ftfuzz: FTFUZZ_AVOID='%s' is not an extended regular expression: %s\n",
                        avoid.pattern, why);
                exit(2);
            }
            avoid.on = true;
        }
    }
}

static const uint8_t *avoided_ops(ftf_target_t target)
{
    read_avoid();
    if (!avoid.on || avoid.left_out[target]) {
        return avoid.left_out[target];
    }
    const ftf_table_t *t = targets_table(target);
    uint8_t *out = calloc((size_t)t->nops * 256, 1);
    ftf_program_t *probe = calloc(1, sizeof(*probe));
    probe->target = target;
    probe->nops = 1;
    int n = 0;
    for (int code = 0; code < t->nops; code++) {
        for (int arg = 0; arg < 256; arg++) {
            char text[160];
            probe->ops[0] = (ftf_op_t){0, (uint8_t)code, (uint8_t)arg, 0};
            schedule_format_op(probe, 0, text, sizeof(text));
            out[code * 256 + arg] = regexec(&avoid.re, text, 0, NULL, 0) == 0;
            n += out[code * 256 + arg];
        }
    }
    free(probe);
    fprintf(stderr, "ftfuzz: FTFUZZ_AVOID='%s' leaves out %.1f%% of target %s's op bytes\n", avoid.pattern,
            100.0 * n / (t->nops * 256), ftf_target_name(target));
    avoid.left_out[target] = out;
    return out;
}

const char *schedule_avoided(void)
{
    read_avoid();
    return avoid.on ? avoid.pattern : NULL;
}

ftf_program_t *ftf_program_decode(ftf_target_t target, ftf_mode_t mode, const uint8_t *data,
                                  size_t size)
{
    if (mode == FTF_MODE_FREE) {
        return decode_program(target, data, size);
    }
    uint8_t h[SERIAL_HEADER + FTF_MAX_SWITCHES * SWITCH_BYTES] = {0};
    size_t k = size ? data[0] % (FTF_MAX_SWITCHES + 1) : 0;
    size_t hlen = SERIAL_HEADER + k * SWITCH_BYTES;
    memcpy(h, data, size < hlen ? size : hlen);
    ftf_program_t *p = decode_program(target, size > hlen ? data + hlen : NULL,
                                      size > hlen ? size - hlen : 0);
    p->mode = FTF_MODE_SERIAL;
    permutation_from_index(h[1] | (unsigned)h[2] << 8, p->nthreads, p->priority);
    p->nswitches = (int)k;
    for (size_t i = 0; i < k; i++) {
        const uint8_t *b = h + SERIAL_HEADER + i * SWITCH_BYTES;
        p->switches[i] = (ftf_switch_t){(uint16_t)(b[0] | b[1] << 8), (uint8_t)(b[2] % p->nthreads)};
    }
    for (int i = 0; i < p->nops; i++) {
        p->ops[i].delay = 0;
    }
    return p;
}

/* A program collects once: decoding leaves out a second collection, parsing refuses it. */
static bool collects(const ftf_table_t *t, int code)
{
    return t->ops[code]->family == FTF_FAMILY_COLLECT;
}

static ftf_program_t *decode_program(ftf_target_t target, const uint8_t *data, size_t size)
{
    ftf_program_t *p = calloc(1, sizeof(*p));
    const ftf_table_t *t = targets_table(target);
    p->target = target;
    p->nthreads = FTF_MIN_THREADS + (size ? data[0] % (FTF_MAX_THREADS - FTF_MIN_THREADS + 1) : 0);
    size_t body = size ? size - 1 : 0;
    size_t nops = (body + 3) / 4;
    if (nops > FTF_MAX_OPS) {
        nops = FTF_MAX_OPS;
    }
    const uint8_t *left_out = avoided_ops(target);
    bool collected = false;
    for (size_t i = 0; i < nops; i++) {
        uint8_t b[4] = {0, 0, 0, 0};
        for (size_t k = 0; k < 4 && 1 + 4 * i + k < size; k++) {
            b[k] = data[1 + 4 * i + k];
        }
        ftf_op_t op = {(uint8_t)(b[0] % p->nthreads), (uint8_t)(b[1] % t->nops), b[2], b[3]};
        if (left_out && left_out[op.code * 256 + op.arg]) {
            continue;
        }
        /* One collection is what a schedule needs to place a stop-the-world among the
         * ops; each costs 300 us where another op costs a few. Coverage rewarded more
         * of them: after a million inputs, the 13% of fuzz_mixed_serial's corpus with 3
         * or more (19 on average) took half of its run time. */
        if (collects(t, op.code)) {
            if (collected) {
                continue;
            }
            collected = true;
        }
        p->ops[p->nops++] = op;
    }
    return p;
}

size_t ftf_program_encode(const ftf_program_t *p, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (p->mode == FTF_MODE_SERIAL) {
        if (cap < SERIAL_HEADER + (size_t)p->nswitches * SWITCH_BYTES + 1) {
            return 0;
        }
        unsigned perm = permutation_index(p->priority, p->nthreads);
        out[n++] = (uint8_t)p->nswitches;
        out[n++] = (uint8_t)perm;
        out[n++] = (uint8_t)(perm >> 8);
        for (int i = 0; i < p->nswitches; i++) {
            out[n++] = (uint8_t)p->switches[i].gap;
            out[n++] = (uint8_t)(p->switches[i].gap >> 8);
            out[n++] = p->switches[i].thread;
        }
    }
    if (cap < n + 1) {
        return 0;
    }
    out[n++] = (uint8_t)(p->nthreads - FTF_MIN_THREADS);
    for (int i = 0; i < p->nops && n + 4 <= cap; i++) {
        out[n++] = p->ops[i].thread;
        out[n++] = p->ops[i].code;
        out[n++] = p->ops[i].arg;
        out[n++] = p->ops[i].delay;
    }
    return n;
}

ftf_target_t ftf_program_target(const ftf_program_t *p) { return p->target; }
ftf_mode_t ftf_program_mode(const ftf_program_t *p) { return p->mode; }
void ftf_program_free(ftf_program_t *p) { free(p); }

/* ---- printing ----------------------------------------------------------------------- */

static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used >= len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

void schedule_format_op(const ftf_program_t *p, int i, char *buf, size_t len)
{
    const ftf_op_t *op = &p->ops[i];
    const ftf_op_desc_t *d = targets_table(p->target)->ops[op->code];
    buf[0] = '\0';
    append(buf, len, "%s", d->name);
    if (d->uses & FTF_USES_OBJ) {
        append(buf, len, " obj%d", ftf_arg_obj(op->arg) % FTF_POOL_OBJS);
        if (d->uses & FTF_USES_ATTR) {
            append(buf, len, ".%s",
                   targets_attr_name(d->pool, ftf_arg_attr(op->arg) % targets_nattrs(d->pool)));
        }
    }
    else if (d->uses & FTF_USES_ATTR) {
        append(buf, len, " %s",
               targets_attr_name(d->pool, ftf_arg_attr(op->arg) % targets_nattrs(d->pool)));
    }
    if (d->uses & FTF_USES_CLASS) {
        append(buf, len, " %s", targets_class_name(ftf_arg_attr(op->arg) % FTF_CLASSES));
    }
    if (d->uses & FTF_USES_VALUE) {
        int v = ftf_arg_value(op->arg);
        if (v < FTF_PINNED) {
            append(buf, len, " c%d", v);
        }
        else {
            append(buf, len, ftf_arg_value_each(op->arg) ? " new-each" : " new");
        }
    }
    if ((d->uses & FTF_USES_REPEAT) && ftf_arg_repeat(op->arg) > 1) {
        append(buf, len, " x%d", FTF_REPEAT);
    }
    switch ((ftf_delay_t)(op->delay & 3)) {
    case FTF_DELAY_NONE:
        break;
    case FTF_DELAY_SPIN:
        append(buf, len, " spin=%u", 1u << ((op->delay >> 2) & 15));
        break;
    case FTF_DELAY_YIELD:
        append(buf, len, " yield");
        break;
    case FTF_DELAY_SLEEP:
        append(buf, len, " sleep=%dus", op->delay >> 2);
        break;
    }
}

void ftf_program_print(const ftf_program_t *p, FILE *out)
{
    fprintf(out, "format %d\ntarget %s\nthreads %d\n", FORMAT_VERSION,
            ftf_target_name(p->target), p->nthreads);
    if (p->mode == FTF_MODE_SERIAL) {
        fprintf(out, "schedule serial\npriority");
        for (int i = 0; i < p->nthreads; i++) {
            fprintf(out, " t%d", p->priority[i]);
        }
        fprintf(out, "\n");
        for (int i = 0; i < p->nswitches; i++) {
            fprintf(out, "switch +%u t%u\n", p->switches[i].gap, p->switches[i].thread);
        }
    }
    for (int i = 0; i < p->nops; i++) {
        char line[160];
        schedule_format_op(p, i, line, sizeof(line));
        fprintf(out, "t%d %-44s # op %d\n", p->ops[i].thread, line, i);
    }
}

/* ---- parsing ------------------------------------------------------------------------ */

typedef struct {
    char *err;
    size_t errlen;
    int line;
    bool priority_listed;
} parse_t;

static int fail(parse_t *ps, const char *fmt, ...)
{
    int n = snprintf(ps->err, ps->errlen, "line %d: ", ps->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < ps->errlen) {
        vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
    }
    va_end(ap);
    return -1;
}

/* Index of an attribute name in the pool, or of a class name when pool is NONE. */
static int lookup(ftf_pool_t pool, const char *name, int *out)
{
    int n = pool == FTF_POOL_NONE ? FTF_CLASSES : targets_nattrs(pool);
    for (int i = 0; i < n; i++) {
        const char *s = pool == FTF_POOL_NONE ? targets_class_name(i) : targets_attr_name(pool, i);
        if (strcmp(s, name) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* Sets one operand from a token; the op's descriptor says which fields exist. */
static int parse_operand(parse_t *ps, const ftf_op_desc_t *d, const char *tok, ftf_op_t *op)
{
    unsigned v;
    int idx;
    char rest[32];
    if (sscanf(tok, "obj%u%31s", &v, rest) >= 1 && v < FTF_POOL_OBJS) {
        if (!(d->uses & FTF_USES_OBJ)) {
            return fail(ps, "%s takes no object", d->name);
        }
        op->arg |= (uint8_t)v;
        const char *dot = strchr(tok, '.');
        if (dot) {
            if (!(d->uses & FTF_USES_ATTR) ||
                lookup(d->pool, dot + 1, &idx)) {
                return fail(ps, "%s has no attribute '%s'", d->name, dot + 1);
            }
            op->arg |= (uint8_t)(idx << 2);
        }
        else if (d->uses & FTF_USES_ATTR) {
            return fail(ps, "%s needs objN.attribute, not '%s'", d->name, tok);
        }
        return 0;
    }
    if ((d->uses & FTF_USES_ATTR) && !(d->uses & FTF_USES_OBJ) &&
        !lookup(d->pool, tok, &idx)) {
        op->arg |= (uint8_t)(idx << 2);
        return 0;
    }
    if ((d->uses & FTF_USES_CLASS) && !lookup(FTF_POOL_NONE, tok, &idx)) {
        op->arg |= (uint8_t)(idx << 2);
        return 0;
    }
    if ((d->uses & FTF_USES_VALUE) && (strcmp(tok, "new") == 0 || strcmp(tok, "new-each") == 0)) {
        op->arg |= (strcmp(tok, "new") == 0 ? 4 : 6) << 4; /* 5 and 7 print as these too */
        return 0;
    }
    if ((d->uses & FTF_USES_VALUE) && sscanf(tok, "c%u%31s", &v, rest) == 1 && v < FTF_PINNED) {
        op->arg |= (uint8_t)(v << 4);
        return 0;
    }
    if ((d->uses & FTF_USES_REPEAT) && strcmp(tok, "x16") == 0) {
        op->arg |= 0x80;
        return 0;
    }
    if (sscanf(tok, "spin=%u%31s", &v, rest) == 1) {
        for (unsigned e = 0; e < 16; e++) {
            if (v == 1u << e) {
                op->delay = (uint8_t)(FTF_DELAY_SPIN | e << 2);
                return 0;
            }
        }
        return fail(ps, "spin=%u: the count must be a power of two up to 32768", v);
    }
    if (strcmp(tok, "yield") == 0) {
        op->delay = FTF_DELAY_YIELD;
        return 0;
    }
    if (sscanf(tok, "sleep=%uus%31s", &v, rest) == 1) {
        if (v > 63) {
            return fail(ps, "sleep=%uus: at most 63us", v);
        }
        op->delay = (uint8_t)(FTF_DELAY_SLEEP | v << 2);
        return 0;
    }
    return fail(ps, "'%s' is not an operand of %s", tok, d->name);
}

/* "t1 t0 t2": the threads in priority order; checked against the thread count at the end. */
static int parse_priority(parse_t *ps, ftf_program_t *p, char *list)
{
    char *save = NULL;
    int n = 0;
    memset(p->priority, 0xff, sizeof(p->priority));
    ps->priority_listed = true;
    for (char *tok = strtok_r(list, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        unsigned t;
        char rest[8];
        if (sscanf(tok, "t%u%7s", &t, rest) != 1 || t >= FTF_MAX_THREADS) {
            return fail(ps, "priority: '%s' is not a thread (t0..t%d)", tok, FTF_MAX_THREADS - 1);
        }
        if (n == FTF_MAX_THREADS) {
            return fail(ps, "priority: more than %d threads", FTF_MAX_THREADS);
        }
        p->priority[n++] = (uint8_t)t;
    }
    return 0;
}

/* The schedule lines of a serialized program, once the thread count is known. */
static int check_serial(parse_t *ps, ftf_program_t *p)
{
    bool listed = ps->priority_listed;
    bool seen[FTF_MAX_THREADS] = {false};
    if (p->mode == FTF_MODE_FREE) {
        return listed || p->nswitches ? fail(ps, "priority and switch lines need 'schedule serial'")
                                      : 0;
    }
    for (int i = 0; i < p->nthreads; i++) {
        int t = listed ? p->priority[i] : i;
        if (t >= p->nthreads || seen[t]) {
            return fail(ps, "priority must list each of the %d threads once", p->nthreads);
        }
        seen[t] = true;
        p->priority[i] = (uint8_t)t;
    }
    if (listed && p->nthreads < FTF_MAX_THREADS && p->priority[p->nthreads] != 0xff) {
        return fail(ps, "priority lists more than the %d threads", p->nthreads);
    }
    for (int i = 0; i < p->nswitches; i++) {
        if (p->switches[i].thread >= p->nthreads) {
            return fail(ps, "switch to t%u, but the program has %d threads", p->switches[i].thread,
                        p->nthreads);
        }
    }
    for (int i = 0; i < p->nops; i++) {
        if (p->ops[i].delay) {
            return fail(ps, "op %d has a delay: serialized programs take their timing from "
                            "the schedule", i);
        }
    }
    return 0;
}

static int parse_op(parse_t *ps, ftf_program_t *p, unsigned tid, char *rest)
{
    char *save = NULL;
    char *name = strtok_r(rest, " \t", &save);
    if (!name) {
        return fail(ps, "t%u: missing op name", tid);
    }
    int code = targets_find_op(p->target, name);
    if (code < 0) {
        for (int t = 0; t < FTF_TARGET_COUNT; t++) {
            if (targets_find_op(t, name) >= 0) {
                return fail(ps, "op %s is not in target %s (it is in %s)", name,
                            ftf_target_name(p->target), ftf_target_name(t));
            }
        }
        return fail(ps, "unknown op '%s'", name);
    }
    if (tid >= (unsigned)p->nthreads) {
        return fail(ps, "thread t%u, but the program has %d threads", tid, p->nthreads);
    }
    if (p->nops == FTF_MAX_OPS) {
        return fail(ps, "more than %d ops", FTF_MAX_OPS);
    }
    const ftf_table_t *t = targets_table(p->target);
    for (int i = 0; collects(t, code) && i < p->nops; i++) {
        if (collects(t, p->ops[i].code)) {
            return fail(ps, "a program collects once, and op %d is %s already", i, name);
        }
    }
    ftf_op_t *op = &p->ops[p->nops];
    *op = (ftf_op_t){(uint8_t)tid, (uint8_t)code, 0, 0};
    const ftf_op_desc_t *d = t->ops[code];
    for (char *tok; (tok = strtok_r(NULL, " \t", &save));) {
        if (parse_operand(ps, d, tok, op)) {
            return -1;
        }
    }
    p->nops++;
    return 0;
}

ftf_program_t *ftf_program_parse(const char *text, char *err, size_t errlen)
{
    ftf_program_t *p = calloc(1, sizeof(*p));
    parse_t ps = {err, errlen, 0, false};
    int have_target = 0;
    const char *s = text;
    p->nthreads = FTF_MIN_THREADS;
    while (*s) {
        char line[512];
        size_t n = strcspn(s, "\n");
        ps.line++;
        if (n >= sizeof(line)) {
            fail(&ps, "line too long");
            goto error;
        }
        memcpy(line, s, n);
        line[n] = '\0';
        s += n + (s[n] == '\n');
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        char *l = line;
        while (isspace((unsigned char)*l)) {
            l++;
        }
        if (!*l) {
            continue;
        }
        char word[64];
        unsigned v, tid;
        int off = 0;
        if (sscanf(l, "format %u", &v) == 1) {
            if (v != FORMAT_VERSION) {
                fail(&ps, "schedule format %u, this build reads format %d", v, FORMAT_VERSION);
                goto error;
            }
        }
        else if (sscanf(l, "target %63s", word) == 1) {
            int t = ftf_target_from_name(word);
            if (t < 0) {
                fail(&ps, "unknown target '%s'", word);
                goto error;
            }
            if (p->nops) {
                fail(&ps, "target must come before the ops");
                goto error;
            }
            p->target = t;
            have_target = 1;
        }
        else if (sscanf(l, "threads %u", &v) == 1) {
            if (v < FTF_MIN_THREADS || v > FTF_MAX_THREADS) {
                fail(&ps, "threads %u: must be %d to %d", v, FTF_MIN_THREADS, FTF_MAX_THREADS);
                goto error;
            }
            if (p->nops) {
                fail(&ps, "threads must come before the ops");
                goto error;
            }
            p->nthreads = (int)v;
        }
        else if (strcmp(l, "schedule serial") == 0 || strcmp(l, "schedule free") == 0) {
            p->mode = l[9] == 's' ? FTF_MODE_SERIAL : FTF_MODE_FREE;
        }
        else if (sscanf(l, "priority %n", &off) == 0 && off > 0) {
            if (parse_priority(&ps, p, l + off)) {
                goto error;
            }
        }
        else if (sscanf(l, "switch +%u t%u %63s", &v, &tid, word) == 2) {
            if (v > UINT16_MAX) {
                fail(&ps, "switch +%u: a gap is at most %u scheduling points", v, UINT16_MAX);
                goto error;
            }
            if (p->nswitches == FTF_MAX_SWITCHES) {
                fail(&ps, "more than %d switches", FTF_MAX_SWITCHES);
                goto error;
            }
            p->switches[p->nswitches++] = (ftf_switch_t){(uint16_t)v, (uint8_t)tid};
        }
        else if (sscanf(l, "t%u %n", &v, &off) == 1 && off > 0) {
            if (!have_target) {
                fail(&ps, "an op before 'target NAME'");
                goto error;
            }
            if (parse_op(&ps, p, v, l + off)) {
                goto error;
            }
        }
        else {
            fail(&ps, "expected 'format N', 'target NAME', 'threads N', 'schedule serial', "
                      "'priority tN ...', 'switch +GAP tN' or 'tN OP ...'");
            goto error;
        }
    }
    if (!have_target) {
        ps.line = 0;
        fail(&ps, "no 'target NAME' line");
        goto error;
    }
    ps.line = 0;
    if (check_serial(&ps, p)) {
        goto error;
    }
    return p;
error:
    free(p);
    return NULL;
}
