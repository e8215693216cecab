/* Interleaving coverage: each thread switch of a serialized run, as the pair (where the
 * thread that gave up the turn stopped, which op the thread that takes it is in), marked
 * in libFuzzer's extra coverage counters.
 *
 * Why: code coverage cannot tell schedules apart. Two inputs running the same ops that
 * switch threads at different atomics cover the same edges, so the fuzzer keeps neither
 * for where it switched, and a race whose window is one atomic wide (a reader between
 * its load of a slot and its incref, a writer between its exchange and its decref) is
 * found only by blind luck with the 16-bit gaps. With the pair as a feature, an input
 * that preempts a thread at a place no input preempted it before, in favour of a thread
 * in another op, is new coverage: the corpus keeps it, and mutation grows the next
 * switch from it. Stop locations are offsets in the executable, so the same switch
 * counts the same in every process (ASLR) and a serialized input's features are as
 * reproducible as its path.
 *
 * Why the resumed side is only an op: it was the code offset where that thread had
 * stopped, and pairs of two offsets grew a serialized corpus to 9,600 inputs in 3
 * minutes (fuzz_class_serial, 3.14.7 atomics, one core), each new combination of two
 * known places new coverage; at op granularity 4,100 in the same time. The place that
 * opens a race window is where the preempted thread stops; what the other thread does
 * there is an op. Likewise a pair counts once per run, not how often the run took it.
 *
 * libFuzzer clears and reads the section around each input (it finds it by the linker's
 * __start_/__stop_ symbols); the ftfuzz tool ignores it. AFL++ does not know the
 * section: in its builds the pair also lands in its own coverage map, hashed over the
 * whole map like its edges (a pair may share a slot with an edge, as two edges may). */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"

#define PAIR_COUNTERS (1 << 14)

__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t pair_counters[PAIR_COUNTERS];

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    return x ^ (x >> 33);
}

/* AFL++'s map pointer and size, found where its runtime is linked (the executables
 * export their symbols). Looked up, not declared: afl-clang-fast's pass declares
 * __afl_area_ptr itself, and a declaration of ours would clash with it. */
static uint8_t **afl_map;
static uint32_t *afl_map_size;

static void find_afl_map(void)
{
    afl_map = dlsym(RTLD_DEFAULT, "__afl_area_ptr");
    afl_map_size = dlsym(RTLD_DEFAULT, "__afl_map_size");
}

void sched_interleaving_clear(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_afl_map);
    memset(pair_counters, 0, sizeof(pair_counters));
}

/* Marked, not counted: the engines bucket a counter by its value (1, 2, 3, 4-7, ...),
 * and every new number of times a run took a known pair would be new coverage. */
void sched_interleaving_note(uint64_t stopped, uint64_t resumed)
{
    uint64_t h = mix(stopped * 0x9e3779b97f4a7c15ULL ^ mix(resumed));
    pair_counters[h % PAIR_COUNTERS] = 1;
    if (afl_map && *afl_map && afl_map_size && *afl_map_size) {
        (*afl_map)[h % *afl_map_size] |= 1;
    }
}

int sched_interleaving_pairs(void)
{
    int n = 0;
    for (size_t i = 0; i < PAIR_COUNTERS; i++) {
        n += pair_counters[i] != 0;
    }
    return n;
}
