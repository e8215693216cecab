/* ftfuzz: race-fuzz the lock-free paths of free-threaded CPython.
 *
 * The one public header of drivers/. Fuzz entry points, the command-line tool and the
 * tests use only what is declared here; drivers/internal.h is private to the library.
 */
#ifndef FTFUZZ_H
#define FTFUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Race families. A target decides which operations an input's op bytes select. */
typedef enum {
    FTF_TARGET_SLOTS,    /* __slots__ of a Python class, every access path */
    FTF_TARGET_MEMBERS,  /* _Py_T_OBJECT and Py_T_OBJECT_EX members of a C type */
    FTF_TARGET_CLASS,    /* __class__ reassignment against slot and class-attribute ops */
    FTF_TARGET_GLOBALS,  /* LOAD_GLOBAL against globals/builtins dict changes */
    FTF_TARGET_MIXED,    /* all of the above in one schedule */
    FTF_TARGET_SELFTEST, /* ops that break the oracles' rules on purpose; tests only */
    FTF_TARGET_COUNT
} ftf_target_t;

/* How the threads of a program interleave. */
typedef enum {
    FTF_MODE_FREE,   /* truly concurrent; the input adds delays before ops */
    FTF_MODE_SERIAL, /* one thread at a time; the input's schedule says who runs when */
} ftf_mode_t;

/* Name as used everywhere: "slots" for fuzz_slots, corpus/fuzz_slots, ... */
const char *ftf_target_name(ftf_target_t target);
/* Accepts "slots", "fuzz_slots" and the serialized fuzzer's "fuzz_slots_serial";
 * returns -1 for an unknown name. */
int ftf_target_from_name(const char *name);
/* FTF_MODE_SERIAL for a name ending in "_serial" (fuzz_slots_serial), else free. */
ftf_mode_t ftf_mode_from_name(const char *name);
/* The ops a target's op byte selects: byte % count, names as the readable form has them. */
int ftf_target_op_count(ftf_target_t target);
const char *ftf_target_op_name(ftf_target_t target, int code);

/* Starts the interpreter and the worker threads; idempotent and thread-safe.
 * Environment: FTFUZZ_WATCHDOG_MS (default 1000), FTFUZZ_PYTHONHOME (default: the
 * directory of the executable if it has lib/python3.Nt/, else the build's prefix). */
void ftf_init(void);

/* Decodes and runs one fuzz input. Every byte string is a valid input. A finding
 * prints a report and aborts; otherwise returns 0. */
int ftf_fuzz_one(ftf_target_t target, ftf_mode_t mode, const uint8_t *data, size_t size);

/* Schedules, decoupled from running them (no interpreter needed). */
typedef struct ftf_program ftf_program_t;

ftf_program_t *ftf_program_decode(ftf_target_t target, ftf_mode_t mode, const uint8_t *data,
                                  size_t size);
/* Parses the readable form; on error returns NULL and writes "line N: why" to err. */
ftf_program_t *ftf_program_parse(const char *text, char *err, size_t errlen);
void ftf_program_print(const ftf_program_t *prog, FILE *out);
/* Bytes that decode to prog; returns the length written (at most cap). */
size_t ftf_program_encode(const ftf_program_t *prog, uint8_t *out, size_t cap);
/* For minimisers: the step-th program one simplification smaller than prog (a switch,
 * an op, a repeat or an idle thread fewer), or NULL when there are no more. */
ftf_program_t *ftf_program_shrink(const ftf_program_t *prog, int step);
ftf_target_t ftf_program_target(const ftf_program_t *prog);
ftf_mode_t ftf_program_mode(const ftf_program_t *prog);
void ftf_program_free(ftf_program_t *prog);

/* The serialized fuzzers' mutator: changes one switch, priority or op of the decoded
 * input (or, some of the time, calls mutate_bytes, the engine's byte mutator, when
 * given) and writes the result back; returns its length (at most max). */
size_t ftf_mutate_serial(ftf_target_t target, uint8_t *data, size_t size, size_t max,
                         unsigned seed, size_t (*mutate_bytes)(uint8_t *, size_t, size_t));

/* Runs a decoded program once (ftf_init first). A finding aborts. */
void ftf_program_run(const ftf_program_t *prog);

/* Whether the races reach the specialized code (3.14+): prints, for each op of target
 * that runs bytecode of its own and each worker, the form of its hot instruction on that
 * worker's copy of the bytecode after the warm-up (STORE_ATTR_SLOT, LOAD_GLOBAL_MODULE,
 * ...); then runs the programs `runs` times and prints how often each was seen to
 * deoptimize and specialize again. Returns how many op/worker pairs were generic after
 * the warm-up where CPython has specialized forms (0 on a CPython that does not
 * specialize its free-threaded build). */
int ftf_specialization_report(ftf_target_t target, ftf_program_t *const *progs, int nprogs,
                              int runs, FILE *out);

/* Where workers wait for locks: runs each program once (all of one mode) and prints the
 * waits per 1000 ops by lock and by the function that waited, and the longest waits
 * with the program each came from (names[i] names progs[i]). Serialized programs give
 * the same table in every process. Returns the number of waits, -1 when the modes mix. */
int ftf_profile_report(ftf_program_t *const *progs, const char *const *names, int n, FILE *out);

/* Where the time of a fuzzer's runs goes: runs the inputs (fuzz bytes) `runs` times each
 * through ftf_fuzz_one, as the fuzzer of target and mode would, and prints the time per
 * run of each phase (decode, world reset, type-cache clear, collection, restore of the
 * specialized bytecode, the ops, the checks, drain, teardown) and its share. */
void ftf_phases_report(ftf_target_t target, ftf_mode_t mode, const uint8_t *const *inputs,
                       const size_t *sizes, int n, int runs, FILE *out);

/* The CPython these drivers were built against: "3.14.7". */
const char *ftf_cpython_version(void);

/* Where the serialized scheduler can switch threads in this build: "ops" (between ops)
 * or "atomics" (also at every atomic operation inside CPython). */
const char *ftf_sched_points(void);

/* The account of the last serialized run of this process (or of the one in progress):
 * every switch, where in CPython it happened, and each thread's state. With
 * FTFUZZ_TRACE=FILE set, each serialized run also writes its path (which thread passed
 * which scheduling point, in order) to FILE, one point per line. */
void ftf_print_last_schedule(FILE *out);
/* Source locations of code addresses given as offsets into this executable (as a
 * trace writes them): "PyMember_GetOne Objects/structmember.c:87", or "exe+0x1234". */
void ftf_symbolize_offsets(const uintptr_t *offsets, int n, char (*out)[256]);

/* The largest encoding of a program, for buffers. */
#define FTF_MAX_ENCODED 512

#endif
