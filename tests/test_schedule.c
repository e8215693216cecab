/* Schedule decoding: every byte string decodes; text -> bytes -> text is the identity;
 * the parser refuses what it cannot run, saying why; the serialized fuzzers' mutator
 * changes one thing at a time. Needs no interpreter. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ftfuzz.h"

static char *print_to_string(const ftf_program_t *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ftf_program_print(p, f);
    fclose(f);
    return buf;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint8_t next_byte(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint8_t)rng;
}

static void random_bytes_round_trip(void)
{
    for (int i = 0; i < 20000; i++) {
        uint8_t in[320];
        size_t n = next_byte() + next_byte() % 64;
        for (size_t k = 0; k < n; k++) {
            in[k] = next_byte();
        }
        ftf_target_t t = (ftf_target_t)(i % FTF_TARGET_COUNT);
        ftf_mode_t mode = (ftf_mode_t)(i / FTF_TARGET_COUNT % 2);
        ftf_program_t *p = ftf_program_decode(t, mode, in, n);
        CHECK(p != NULL, "decode returned NULL");
        char *text = print_to_string(p);
        char err[256] = "";
        ftf_program_t *q = ftf_program_parse(text, err, sizeof(err));
        CHECK(q != NULL, "printed program does not parse: %s\n%s", err, text);
        if (q) {
            char *again = print_to_string(q);
            CHECK(strcmp(text, again) == 0, "text -> program -> text differs:\n%s---\n%s", text, again);
            uint8_t bytes[FTF_MAX_ENCODED];
            size_t m = ftf_program_encode(q, bytes, sizeof(bytes));
            ftf_program_t *r = ftf_program_decode(t, mode, bytes, m);
            char *third = print_to_string(r);
            CHECK(strcmp(text, third) == 0, "text -> bytes -> text differs:\n%s---\n%s", text, third);
            free(again);
            free(third);
            ftf_program_free(r);
            ftf_program_free(q);
        }
        free(text);
        ftf_program_free(p);
        if (failures) {
            return;
        }
    }
}

static void short_inputs_get_defaults(void)
{
    ftf_program_t *p = ftf_program_decode(FTF_TARGET_SLOTS, FTF_MODE_FREE, NULL, 0);
    char *text = print_to_string(p);
    CHECK(strstr(text, "threads 2\n") && !strstr(text, "\nt0 "), "empty input: %s", text);
    free(text);
    ftf_program_free(p);
    const uint8_t partial[] = {6, 0, 1};
    p = ftf_program_decode(FTF_TARGET_SLOTS, FTF_MODE_FREE, partial, sizeof(partial));
    text = print_to_string(p);
    CHECK(strstr(text, "threads 8\n") && strstr(text, "t0 slots.store-bytecode obj0.a c0"),
          "a partial op is zero-padded: %s", text);
    free(text);
    ftf_program_free(p);
    /* A serialized header cut short: 2 switches announced, one and a half given. */
    const uint8_t header[] = {2, 1, 0, 7, 1, 1, 9};
    p = ftf_program_decode(FTF_TARGET_SLOTS, FTF_MODE_SERIAL, header, sizeof(header));
    text = print_to_string(p);
    CHECK(strstr(text, "schedule serial\npriority t1 t0\nswitch +263 t1\nswitch +9 t0\n") &&
              !strstr(text, "\nt0 "),
          "a short serialized header is zero-padded: %s", text);
    free(text);
    ftf_program_free(p);
}

static void parse_errors_say_why(void)
{
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"format 2\ntarget slots\n", "line 1: schedule format 2, this build reads format 1"},
        {"target nope\n", "line 1: unknown target 'nope'"},
        {"threads 3\n", "no 'target NAME' line"},
        {"target slots\nthreads 9\n", "line 2: threads 9: must be 2 to 8"},
        {"target slots\nt2 barrier\n", "line 2: thread t2, but the program has 2 threads"},
        {"target slots\nt0 globals.load G0\n", "line 2: op globals.load is not in target slots (it is in globals)"},
        {"target slots\nt0 slots.load-attr obj0.z\n", "line 2: slots.load-attr has no attribute 'z'"},
        {"target slots\nt0 slots.delete-attr obj0.a c1\n", "line 2: 'c1' is not an operand of slots.delete-attr"},
        {"target slots\nt0 barrier spin=3\n", "line 2: spin=3: the count must be a power of two"},
        {"target slots\nbogus\n", "line 2: expected 'format N'"},
        {"target slots\npriority t0 t1\n", "priority and switch lines need 'schedule serial'"},
        {"target slots\nschedule serial\npriority t1\n", "priority must list each of the 2 threads once"},
        {"target slots\nschedule serial\npriority t1 t1\n", "priority must list each of the 2 threads once"},
        {"target slots\nschedule serial\npriority t1 t0 t2\n", "priority lists more than the 2 threads"},
        {"target slots\nschedule serial\nswitch +70000 t1\n", "line 3: switch +70000: a gap is at most 65535"},
        {"target slots\nschedule serial\nswitch +7 t3\n", "switch to t3, but the program has 2 threads"},
        {"target slots\nschedule serial\nt0 barrier yield\n", "op 0 has a delay: serialized programs"},
        {"target mixed\nt0 gc.collect\nt1 barrier\nt1 gc.collect\n",
         "line 4: a program collects once, and op 0 is gc.collect already"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        ftf_program_t *p = ftf_program_parse(cases[i].text, err, sizeof(err));
        CHECK(p == NULL, "accepted: %s", cases[i].text);
        CHECK(strstr(err, cases[i].error) != NULL, "error for %s was '%s', expected '%s'",
              cases[i].text, err, cases[i].error);
        ftf_program_free(p);
    }
}

/* A collection costs as much as the rest of a run: the bytes keep a program's first. */
static void second_collection_left_out(void)
{
    int n = ftf_target_op_count(FTF_TARGET_MIXED);
    int gc = 0;
    while (gc < n && strcmp(ftf_target_op_name(FTF_TARGET_MIXED, gc), "gc.collect") != 0) {
        gc++;
    }
    CHECK(gc < n, "the mixed target has no gc.collect");
    /* A serialized header without switches, then 2 threads and the ops t1 gc.collect,
     * t0 gc.collect, t1 barrier, t0 gc.collect. */
    const uint8_t in[] = {0, 0, 0, 0, 1, (uint8_t)gc, 0, 0, 0, (uint8_t)gc, 0, 0,
                          1, 0, 0, 0, 0, (uint8_t)gc, 0, 0};
    for (int mode = 0; mode < 2 && gc < n; mode++) {
        size_t skip = mode == FTF_MODE_SERIAL ? 0 : 3;
        ftf_program_t *p =
            ftf_program_decode(FTF_TARGET_MIXED, (ftf_mode_t)mode, in + skip, sizeof(in) - skip);
        char *text = print_to_string(p);
        const char *first = strstr(text, "t1 gc.collect");
        CHECK(first && !strstr(first + strlen("t1 gc.collect"), "gc.collect") && strstr(text, "t1 barrier") &&
                  !strstr(text, "# op 2"),
              "mode %d: four ops, three of them collections, should decode to t1 gc.collect, "
              "t1 barrier:\n%s", mode, text);
        free(text);
        ftf_program_free(p);
    }
}

/* Splits a printed serialized program into its schedule (priority and switch lines) and
 * its ops; returns the gaps of its switches in gaps[], their number as the result. */
static int split_program(const char *text, char *sched, char *ops, unsigned *gaps)
{
    int n = 0;
    *sched = *ops = '\0';
    for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
        size_t len = strcspn(l, "\n") + 1;
        bool is_sched = strncmp(l, "priority", 8) == 0 || strncmp(l, "switch", 6) == 0;
        strncat(is_sched ? sched : ops, l, len);
        if (strncmp(l, "switch +", 8) == 0) {
            gaps[n++] = (unsigned)strtoul(l + 8, NULL, 10);
        }
        if (!l[len - 1]) {
            break;
        }
    }
    return n;
}

/* A program's text form encoded into in[] (the bytes' length, 0 if it does not parse),
 * and printed back into *text. */
static size_t encode_text(const char *src, uint8_t *in, size_t cap, char **text)
{
    char err[256] = "";
    ftf_program_t *p = ftf_program_parse(src, err, sizeof(err));
    CHECK(p != NULL, "%s", err);
    if (!p) {
        return 0;
    }
    size_t n = ftf_program_encode(p, in, cap);
    *text = print_to_string(p);
    ftf_program_free(p);
    return n;
}

/* The serialized fuzzers' mutator changes the schedule or one op, never both, so an
 * input that pairs two racing ops keeps them while its switches move; and it moves a
 * switch by a few points (the next atomic over) more often than anything else. */
static void mutations_change_one_thing(void)
{
    static const char src[] = "format 1\ntarget slots\nthreads 3\nschedule serial\n"
                              "switch +40 t2\nswitch +12 t0\n"
                              "t0 slots.store-member obj0.a new x16\n"
                              "t2 slots.load-member obj0.a x16\n"
                              "t1 slots.store-attr obj0.a c1\n";
    uint8_t in[FTF_MAX_ENCODED];
    char *text;
    size_t n = encode_text(src, in, sizeof(in), &text);
    if (!n) {
        return;
    }
    static char sched0[4096], ops0[4096], sched[4096], ops[4096];
    unsigned gaps0[32], gaps[32];
    int nsw0 = split_program(text, sched0, ops0, gaps0);
    free(text);
    enum { TRIES = 4000 };
    int schedule_changed = 0, ops_changed = 0, nudged = 0;
    for (unsigned seed = 0; seed < TRIES && !failures; seed++) {
        uint8_t buf[FTF_MAX_ENCODED];
        memcpy(buf, in, n);
        size_t m = ftf_mutate_serial(FTF_TARGET_SLOTS, buf, n, sizeof(buf), seed, NULL);
        CHECK(m > 0 && m <= sizeof(buf), "seed %u: length %zu", seed, m);
        ftf_program_t *q = ftf_program_decode(FTF_TARGET_SLOTS, FTF_MODE_SERIAL, buf, m);
        text = print_to_string(q);
        int nsw = split_program(text, sched, ops, gaps);
        bool same_sched = strcmp(sched, sched0) == 0, same_ops = strcmp(ops, ops0) == 0;
        CHECK(same_sched || same_ops, "seed %u changed both the schedule and the ops:\n%s", seed, text);
        schedule_changed += !same_sched;
        ops_changed += !same_ops;
        if (nsw == nsw0 && !same_sched) {
            int moved = 0, by = 0;
            for (int i = 0; i < nsw; i++) {
                moved += gaps[i] != gaps0[i];
                by += abs((int)gaps[i] - (int)gaps0[i]);
            }
            nudged += moved == 1 && by <= 8;
        }
        free(text);
        ftf_program_free(q);
    }
    CHECK(schedule_changed > TRIES / 3, "only %d of %d mutations changed the schedule", schedule_changed, TRIES);
    CHECK(ops_changed > TRIES / 8, "only %d of %d mutations changed an op", ops_changed, TRIES);
    CHECK(nudged > TRIES / 20, "only %d of %d mutations moved one switch by 1-8 points", nudged, TRIES);
    printf("mutator: of %d, %d changed the schedule (%d moved one switch by 1-8 points), %d an op\n",
           TRIES, schedule_changed, nudged, ops_changed);
}

/* A mutant that decodes to its parent's program runs the parent again: a flipped operand
 * bit the op does not use, or a copy of the program's collection (decoding leaves out a
 * second), changes the bytes and nothing else. Every mutation must change what runs. */
static void mutants_differ_from_their_parent(void)
{
    static const char src[] = "format 1\ntarget mixed\nthreads 2\nschedule serial\n"
                              "switch +7 t1\n"
                              "t0 gc.collect\n"
                              "t1 slots.load-member obj0.a\n";
    uint8_t in[FTF_MAX_ENCODED];
    char *parent;
    size_t n = encode_text(src, in, sizeof(in), &parent);
    if (!n) {
        return;
    }
    enum { TRIES = 4000 };
    int same = 0;
    for (unsigned seed = 0; seed < TRIES; seed++) {
        uint8_t buf[FTF_MAX_ENCODED];
        memcpy(buf, in, n);
        size_t m = ftf_mutate_serial(FTF_TARGET_MIXED, buf, n, sizeof(buf), seed, NULL);
        ftf_program_t *q = ftf_program_decode(FTF_TARGET_MIXED, FTF_MODE_SERIAL, buf, m);
        char *text = print_to_string(q);
        same += strcmp(text, parent) == 0;
        free(text);
        ftf_program_free(q);
    }
    CHECK(same == 0, "%d of %d mutants decode to their parent's program:\n%s", same, TRIES, parent);
    free(parent);
}

/* afl-fuzz calls the mutator with no byte mutations of its own in the call; from its
 * empty start program (one zero byte) every mutation must give the program an op, or
 * the mutator spends its share of the executions on programs that do nothing. */
static void empty_programs_gain_ops(void)
{
    for (unsigned seed = 0; seed < 200 && !failures; seed++) {
        uint8_t buf[FTF_MAX_ENCODED] = {0};
        size_t m = ftf_mutate_serial(FTF_TARGET_SLOTS, buf, 1, sizeof(buf), seed, NULL);
        ftf_program_t *q = ftf_program_decode(FTF_TARGET_SLOTS, FTF_MODE_SERIAL, buf, m);
        char *text = print_to_string(q);
        bool has_op = false;
        for (int t = 0; t < 8; t++) {
            char line[8];
            snprintf(line, sizeof(line), "\nt%d ", t);
            has_op |= strstr(text, line) != NULL;
        }
        CHECK(has_op, "seed %u: the empty program stayed without ops:\n%s", seed, text);
        free(text);
        ftf_program_free(q);
    }
}

int main(void)
{
    random_bytes_round_trip();
    short_inputs_get_defaults();
    parse_errors_say_why();
    second_collection_left_out();
    mutations_change_one_thing();
    mutants_differ_from_their_parent();
    empty_programs_gain_ops();
    printf("test_schedule: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
