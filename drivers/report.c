/* Reports: the finding, the program in its readable form and how to replay it, on every
 * way a run can die (an oracle, the watchdog, an ASan report). */
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static const ftf_run_t *_Atomic current;
static atomic_flag reporting = ATOMIC_FLAG_INIT;
static pthread_t workers[FTF_MAX_THREADS];
static atomic_bool registered[FTF_MAX_THREADS];
static atomic_int stacks_printed;

/* Real-time signal: libFuzzer uses SIGUSR1/2 and CPython's handlers are off. */
#define STACK_SIGNAL (SIGRTMIN + 1)

void report_set_run(const ftf_run_t *run) { atomic_store(&current, run); }

void report_register_thread(int tid, pthread_t thread)
{
    workers[tid] = thread;
    atomic_store(&registered[tid], true);
}

static void print_program(void)
{
    const ftf_run_t *run = atomic_load(&current);
    if (!run) {
        fprintf(stderr, "==ftfuzz== no program was running\n");
        return;
    }
    const char *t = ftf_target_name(run->prog->target);
    fprintf(stderr, "==ftfuzz== CPython %s free-threaded, target %s, %s scheduler\n", PY_VERSION,
            t, run->sched->name);
    fprintf(stderr, "==ftfuzz== program (save it as a .txt file to replay it as text):\n");
    ftf_program_print(run->prog, stderr);
    fprintf(stderr, "==ftfuzz== replay: ftfuzz reproduce --target %s <crash file or .txt>\n", t);
}

/* A second finder (another thread, or a dealloc triggered by the abort) waits. */
static void claim_report(void)
{
    if (atomic_flag_test_and_set(&reporting)) {
        for (;;) {
            pause();
        }
    }
}

static void vreport(const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "\n==ftfuzz== FINDING %s: ", kind);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    print_program();
}

_Noreturn void report_finding(const char *kind, const char *fmt, ...)
{
    claim_report();
    va_list ap;
    va_start(ap, fmt);
    vreport(kind, fmt, ap);
    va_end(ap);
    fflush(stderr);
    abort();
}

static void print_own_stack(int sig)
{
    (void)sig;
    fprintf(stderr, "==ftfuzz== stack of worker thread %d (op %d):\n", ftf_here.tid, ftf_here.op);
    __sanitizer_print_stack_trace();
    atomic_fetch_add(&stacks_printed, 1);
}

static void finding_stuck(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("stuck", fmt, ap);
    va_end(ap);
}

_Noreturn void report_stuck(const int64_t *ms, const int *ops)
{
    claim_report();
    const ftf_run_t *run = atomic_load(&current);
    /* Threads at a barrier wait for the culprit: blame the longest op that is not one. */
    int culprit = -1;
    int64_t best = -1;
    for (int t = 0; t < FTF_MAX_THREADS; t++) {
        bool barrier = run && run->prog->ops[ops[t]].code == 0;
        int64_t score = ms[t] < 0 ? -1 : ms[t] + (barrier ? 0 : INT64_C(1) << 40);
        if (score > best) {
            culprit = t, best = score;
        }
    }
    char desc[160] = "?";
    if (run) {
        schedule_format_op(run->prog, ops[culprit], desc, sizeof(desc));
    }
    finding_stuck("thread %d stuck in op %d (%s) for %lld ms (bound %d ms, FTFUZZ_WATCHDOG_MS)",
                  culprit, ops[culprit], desc, (long long)ms[culprit], watchdog_bound_ms());
    for (int t = 0; t < FTF_MAX_THREADS; t++) {
        if (!atomic_load(&registered[t]) || !run || t >= run->prog->nthreads) {
            continue;
        }
        int before = atomic_load(&stacks_printed);
        if (pthread_kill(workers[t], STACK_SIGNAL) == 0) {
            for (int i = 0; i < 200 && atomic_load(&stacks_printed) == before; i++) {
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }
    fflush(stderr);
    abort();
}

/* ASan prints its own report; this adds what to replay. */
static void after_asan_report(const char *text)
{
    (void)text;
    print_program();
}

void report_install_hooks(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = print_own_stack;
    sigemptyset(&sa.sa_mask);
    sigaction(STACK_SIGNAL, &sa, NULL);
    __asan_set_error_report_callback(after_asan_report);
}

/* The interpreter never frees some start-up allocations and is never finalized here, so
 * LeakSanitizer's exit check would report them on every run; leaked references to the
 * values under test are the canary audit's job. Objects live in mimalloc, not in ASan's
 * heap, so its 256 MB quarantine of freed malloc blocks buys little here and would be
 * most of a long run's memory: 16 MB. ASAN_OPTIONS still overrides both. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0:quarantine_size_mb=16"; }
