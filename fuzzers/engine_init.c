/* Shared by every fuzzer: the interpreter and workers start once, before the first input. */
#include "ftfuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    ftf_init();
    return 0;
}
