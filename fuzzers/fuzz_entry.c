/* The entry point of every fuzzer: CMake compiles it once per target and mode
 * (fuzz_slots, fuzz_slots_serial, ...), naming them in FTF_FUZZ_TARGET and FTF_FUZZ_MODE.
 * What each target races is described in drivers/ftfuzz.h. */
#include <string.h>

#include "ftfuzz.h"

/* The interpreter and the workers start once, before the first input; under AFL++
 * (FTF_INIT_AFTER_FORK) at the first input, in the forked child that runs them. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!FTF_INIT_AFTER_FORK) {
        ftf_init();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* AFL++'s driver first runs the target on the first bytes of its own marker string,
     * not an input; as a program that may well be a faulty one (it is, for
     * fuzz_selftest). An input starting so is one in 2^32 and not missed. */
    static const char afl_marker[] = "##SIG_AFL_";
    if (FTF_INIT_AFTER_FORK && size >= 4 &&
        memcmp(data, afl_marker, size < sizeof(afl_marker) - 1 ? size : sizeof(afl_marker) - 1) == 0) {
        return 0;
    }
    return ftf_fuzz_one(FTF_FUZZ_TARGET, FTF_FUZZ_MODE, data, size);
}

#if FTF_SERIAL_FUZZER
/* libFuzzer's own byte mutator, for the share of mutations that stays byte-level. Weak:
 * AFL++'s driver has none, and does not call custom mutators either. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max) __attribute__((weak));

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed)
{
    return ftf_mutate_serial(FTF_FUZZ_TARGET, data, size, max, seed, LLVMFuzzerMutate);
}
#endif
