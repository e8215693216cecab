/* The unit tests' one assertion: reports a failed condition and counts it, so a test
 * runs all its checks and fails at the end (main returns failures != 0). */
#ifndef FTFUZZ_TESTS_CHECK_H
#define FTFUZZ_TESTS_CHECK_H
#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                             \
            fprintf(stderr, "\n");                                    \
            failures++;                                               \
        }                                                             \
    } while (0)
#endif
