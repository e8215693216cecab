/* fuzz_slots: __slots__ stores, loads and deletes through bytecode, setattr/getattr/delattr,
 * the member descriptor and PyMember_SetOne/GetOne, racing on two instances. */
#include "ftfuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ftf_fuzz_one(FTF_TARGET_SLOTS, data, size);
}
