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

/* Name as used everywhere: "slots" for fuzz_slots, corpus/fuzz_slots, ... */
const char *ftf_target_name(ftf_target_t target);
/* Accepts "slots" or "fuzz_slots"; returns -1 for an unknown name. */
int ftf_target_from_name(const char *name);

/* Starts the interpreter and the worker threads; idempotent and thread-safe.
 * Environment: FTFUZZ_WATCHDOG_MS (default 1000), FTFUZZ_PYTHONHOME. */
void ftf_init(void);

/* Decodes and runs one fuzz input. Every byte string is a valid input. A finding
 * prints a report and aborts; otherwise returns 0. */
int ftf_fuzz_one(ftf_target_t target, const uint8_t *data, size_t size);

/* Schedules, decoupled from running them (no interpreter needed). */
typedef struct ftf_program ftf_program_t;

ftf_program_t *ftf_program_decode(ftf_target_t target, const uint8_t *data, size_t size);
/* Parses the readable form; on error returns NULL and writes "line N: why" to err. */
ftf_program_t *ftf_program_parse(const char *text, char *err, size_t errlen);
void ftf_program_print(const ftf_program_t *prog, FILE *out);
/* Bytes that decode to prog; returns the length written (at most cap). */
size_t ftf_program_encode(const ftf_program_t *prog, uint8_t *out, size_t cap);
ftf_target_t ftf_program_target(const ftf_program_t *prog);
void ftf_program_free(ftf_program_t *prog);

/* Runs a decoded program once (ftf_init first). A finding aborts. */
void ftf_program_run(const ftf_program_t *prog);

/* The largest encoding of a program, for buffers. */
#define FTF_MAX_ENCODED 512

#endif
