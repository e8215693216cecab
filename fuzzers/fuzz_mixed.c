/* fuzz_mixed: every race family in one schedule. */
#include "ftfuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ftf_fuzz_one(FTF_TARGET_MIXED, data, size);
}
