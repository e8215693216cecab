/* The runtime of an atomics build (scripts/build-cpython, FTFUZZ_SCHED_POINTS=atomics):
 * CPython is compiled with clang's thread-sanitizer instrumentation reduced to atomic
 * operations, so each of its atomic loads, stores, exchanges, read-modify-writes and
 * compare-exchanges calls a __tsan_atomic* function. Instead of TSan's runtime, these
 * are linked: each one is a scheduling point of the serialized scheduler, then does the
 * operation.
 *
 * Why this way: the lock-free paths race exactly at their atomics (a slot's load and
 * exchange, the try-incref of the value, the dict and type version checks, the mutex
 * and critical-section words), and the compiler finds every one of them in any CPython
 * version without a source patch; plain accesses are not instrumented, so a point costs
 * a call, not a shadow-memory update. Every operation runs sequentially consistent,
 * which on x86 is what the hardware gives the weaker orders anyway.
 *
 * The allocator's atomics (obmalloc.o) call the __ftf_quiet_* copies instead, which are
 * not scheduling points: their number depends on heap state earlier inputs left, and
 * counting them would make one schedule mean different things in different processes. */
#include <stdint.h>

#include "internal.h"

#define SEQ __ATOMIC_SEQ_CST
/* A hook runs at every atomic of CPython: coverage of its own few lines would cost a
 * callback per call and tell the fuzzer nothing. */
#define HOOK __attribute__((no_sanitize("coverage")))
#define POINT_loud() sched_serial_point(__builtin_return_address(0))
#define POINT_quiet() ((void)0)

#define DEFINE_WIDTH(prefix, kind, bits, T)                                                      \
    T prefix##bits##_load(const volatile T *a, int mo);                                         \
    HOOK T prefix##bits##_load(const volatile T *a, int mo)                                      \
    {                                                                                            \
        (void)mo;                                                                                \
        POINT_##kind();                                                                          \
        return __atomic_load_n(a, SEQ);                                                          \
    }                                                                                            \
    void prefix##bits##_store(volatile T *a, T v, int mo);                                      \
    HOOK void prefix##bits##_store(volatile T *a, T v, int mo)                                   \
    {                                                                                            \
        (void)mo;                                                                                \
        POINT_##kind();                                                                          \
        __atomic_store_n(a, v, SEQ);                                                             \
    }                                                                                            \
    DEFINE_RMW(prefix, kind, bits, T, exchange, __atomic_exchange_n)                             \
    DEFINE_RMW(prefix, kind, bits, T, fetch_add, __atomic_fetch_add)                             \
    DEFINE_RMW(prefix, kind, bits, T, fetch_sub, __atomic_fetch_sub)                             \
    DEFINE_RMW(prefix, kind, bits, T, fetch_and, __atomic_fetch_and)                             \
    DEFINE_RMW(prefix, kind, bits, T, fetch_or, __atomic_fetch_or)                               \
    DEFINE_RMW(prefix, kind, bits, T, fetch_xor, __atomic_fetch_xor)                             \
    DEFINE_RMW(prefix, kind, bits, T, fetch_nand, __atomic_fetch_nand)                           \
    DEFINE_CAS(prefix, kind, bits, T, strong, 0)                                                 \
    DEFINE_CAS(prefix, kind, bits, T, weak, 1)                                                   \
    T prefix##bits##_compare_exchange_val(volatile T *a, T c, T v, int mo, int fmo);            \
    HOOK T prefix##bits##_compare_exchange_val(volatile T *a, T c, T v, int mo, int fmo)         \
    {                                                                                            \
        (void)mo, (void)fmo;                                                                     \
        POINT_##kind();                                                                          \
        __atomic_compare_exchange_n(a, &c, v, 0, SEQ, SEQ);                                      \
        return c;                                                                                \
    }

#define DEFINE_RMW(prefix, kind, bits, T, op, builtin)                                           \
    T prefix##bits##_##op(volatile T *a, T v, int mo);                                          \
    HOOK T prefix##bits##_##op(volatile T *a, T v, int mo)                                       \
    {                                                                                            \
        (void)mo;                                                                                \
        POINT_##kind();                                                                          \
        return builtin(a, v, SEQ);                                                               \
    }

#define DEFINE_CAS(prefix, kind, bits, T, strength, is_weak)                                     \
    int prefix##bits##_compare_exchange_##strength(volatile T *a, T *c, T v, int mo, int fmo);  \
    HOOK int prefix##bits##_compare_exchange_##strength(volatile T *a, T *c, T v, int mo, int fmo) \
    {                                                                                            \
        (void)mo, (void)fmo;                                                                     \
        POINT_##kind();                                                                          \
        return __atomic_compare_exchange_n(a, c, v, is_weak, SEQ, SEQ);                          \
    }

#define DEFINE_FAMILY(prefix, kind)                                                              \
    DEFINE_WIDTH(prefix##atomic, kind, 8, uint8_t)                                               \
    DEFINE_WIDTH(prefix##atomic, kind, 16, uint16_t)                                             \
    DEFINE_WIDTH(prefix##atomic, kind, 32, uint32_t)                                             \
    DEFINE_WIDTH(prefix##atomic, kind, 64, uint64_t)                                             \
    void prefix##atomic_thread_fence(int mo);                                                    \
    HOOK void prefix##atomic_thread_fence(int mo)                                                \
    {                                                                                            \
        (void)mo;                                                                                \
        POINT_##kind();                                                                          \
        __atomic_thread_fence(SEQ);                                                              \
    }                                                                                            \
    void prefix##atomic_signal_fence(int mo);                                                    \
    HOOK void prefix##atomic_signal_fence(int mo)                                                \
    {                                                                                            \
        (void)mo;                                                                                \
        __atomic_signal_fence(SEQ);                                                              \
    }                                                                                            \
    void prefix##init(void);                                                                     \
    void prefix##init(void) {}

DEFINE_FAMILY(__tsan_, loud)
DEFINE_FAMILY(__ftf_quiet_, quiet)
