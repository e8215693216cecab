/* The serialized fuzzers' schedule-aware mutator (drivers/search/search_mutate.c) as an
 * AFL++ custom mutator: afl-fuzz loads it from AFL_CUSTOM_MUTATOR_LIBRARY (scripts/fuzz
 * --engine afl sets it) and runs it beside its own havoc, as libFuzzer runs it beside
 * its byte mutations. CMake builds one per serialized fuzzer (FTF_FUZZ_TARGET) with a
 * plain compiler: the library runs inside afl-fuzz, which has neither AFL++'s
 * instrumentation runtime nor ASan's. */
#include <stdlib.h>
#include <string.h>

#include "ftfuzz.h"

typedef struct {
    unsigned seed;
    uint8_t *buf;
    size_t cap;
} mutator_t;

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf, uint8_t *add_buf,
                       size_t add_buf_size, size_t max_size);
uint32_t afl_custom_fuzz_count(void *data, const uint8_t *buf, size_t buf_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
    (void)afl;
    mutator_t *m = calloc(1, sizeof(*m));
    if (m) {
        m->seed = seed;
    }
    return m;
}

/* AFL++ owns buf: the mutation goes to a buffer of ours, which stays valid until the
 * next call. */
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf, uint8_t *add_buf,
                       size_t add_buf_size, size_t max_size)
{
    (void)add_buf, (void)add_buf_size;
    mutator_t *m = data;
    size_t need = buf_size > max_size ? buf_size : max_size;
    if (need > m->cap) {
        uint8_t *grown = realloc(m->buf, need);
        if (!grown) {
            *out_buf = buf;
            return buf_size;
        }
        m->buf = grown, m->cap = need;
    }
    memcpy(m->buf, buf, buf_size);
    /* Each call a new seed, from the one afl-fuzz gave: a run with -s replays. */
    m->seed = m->seed * 1103515245u + 12345u;
    *out_buf = m->buf;
    return ftf_mutate_serial(FTF_FUZZ_TARGET, m->buf, buf_size, max_size, m->seed, NULL);
}

/* Calls per queue entry. Without this, afl-fuzz gives the custom stage havoc's whole
 * budget, doubles it at every find, and runs it again in each of up to 15 splice rounds,
 * before and around a havoc that gets the same or less: nearly every execution went to
 * schedules, and a bug that needs a value or an op of the right kind, which havoc's
 * bytes find in seconds, waited behind them. A splice round's havoc budget (32) keeps
 * the schedule search in every round, at most half of it. */
uint32_t afl_custom_fuzz_count(void *data, const uint8_t *buf, size_t buf_size)
{
    (void)data, (void)buf, (void)buf_size;
    return 32;
}

void afl_custom_deinit(void *data)
{
    mutator_t *m = data;
    free(m->buf);
    free(m);
}
