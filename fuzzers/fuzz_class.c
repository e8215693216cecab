/* fuzz_class: __class__ reassignment among classes with the same __slots__, racing slot ops and
 * class attribute changes. */
#include "ftfuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ftf_fuzz_one(FTF_TARGET_CLASS, data, size);
}
