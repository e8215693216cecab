/* The entry point of every fuzzer: CMake compiles it once per target and mode
 * (fuzz_slots, fuzz_slots_serial, ...), naming them in FTF_FUZZ_TARGET and FTF_FUZZ_MODE.
 * What each target races is described in drivers/ftfuzz.h. */
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
    return ftf_fuzz_one(FTF_FUZZ_TARGET, FTF_FUZZ_MODE, data, size);
}
