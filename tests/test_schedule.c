/* Schedule decoding: every byte string decodes; text -> bytes -> text is the identity;
 * the parser refuses what it cannot run, saying why. Needs no interpreter. */
#include <stdlib.h>
#include <string.h>

#include "ftfuzz.h"

static int failures;
#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                             \
            fprintf(stderr, "\n");                                    \
            failures++;                                               \
        }                                                             \
    } while (0)

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

int main(void)
{
    random_bytes_round_trip();
    short_inputs_get_defaults();
    parse_errors_say_why();
    printf("test_schedule: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
