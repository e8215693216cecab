/* fuzz_members: _Py_T_OBJECT and Py_T_OBJECT_EX members of a C type, written, read and cleared
 * through every path. */
#include "ftfuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ftf_fuzz_one(FTF_TARGET_MEMBERS, data, size);
}
