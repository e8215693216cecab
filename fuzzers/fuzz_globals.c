/* fuzz_globals: LOAD_GLOBAL of module globals and builtins in hot functions, racing inserts,
 * deletes and rebinding in those dicts. */
#include "ftfuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ftf_fuzz_one(FTF_TARGET_GLOBALS, data, size);
}
