/* Reports: the finding, the program in its readable form and how to replay it, on every
 * way a run can die (an oracle, the watchdog, an ASan report). */
#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#endif

static const ftf_run_t *_Atomic current;
static atomic_bool reporting;
static atomic_int signals_handled; /* by workers' STACK_SIGNAL handlers */

/* Real-time signal: libFuzzer uses SIGUSR1/2 and CPython's handlers are off. */
#define STACK_SIGNAL (SIGRTMIN + 1)

static _Noreturn void wait_for_the_abort(void)
{
    for (;;) {
        pause();
    }
}

/* A run that ends while a finding is reported waits for the report's abort: the report
 * reads the run's program, which the end of the run frees. The watchdog reports an op
 * that passed the bound even if it ends meanwhile (one that did, under Ctrl-Z, was read
 * after free). Both sides are sequentially consistent, so either the report sees no run
 * or the run sees the report. */
void report_set_run(const ftf_run_t *run)
{
    atomic_store(&current, run);
    if (!run && atomic_load(&reporting)) {
        wait_for_the_abort();
    }
}

static void print_program(void)
{
    const ftf_run_t *run = atomic_load(&current);
    if (!run) {
        fprintf(stderr, "==ftfuzz== no program was running\n");
        return;
    }
    const char *t = ftf_target_name(run->prog->target);
    const char *serial = run->prog->mode == FTF_MODE_SERIAL ? "_serial" : "";
    fprintf(stderr, "==ftfuzz== CPython %s free-threaded, target %s, %s scheduler, "
                    "switch points: %s\n",
            PY_VERSION, t, run->sched->name, ftf_sched_points());
    const char *avoided = schedule_avoided();
    if (avoided) {
        fprintf(stderr, "==ftfuzz== FTFUZZ_AVOID='%s': the input's ops that match were left out; "
                        "replay its bytes with the same FTFUZZ_AVOID, or the text below as is\n",
                avoided);
    }
    fprintf(stderr, "==ftfuzz== program (save it as a .txt file to replay it as text):\n");
    ftf_program_print(run->prog, stderr);
    if (run->sched->print_account) {
        run->sched->print_account(stderr);
    }
    fprintf(stderr, "==ftfuzz== replay: ftfuzz reproduce --target %s%s <crash file or .txt>\n", t,
            serial);
}

/* A second finder (another thread, or a dealloc triggered by the abort) waits. */
static void claim_report(void)
{
    if (atomic_exchange(&reporting, true)) {
        wait_for_the_abort();
    }
}

/* FTFUZZ_FINDINGS_LOG=FILE: each finding's line is also appended there. libFuzzer's
 * fork mode keeps a crashing job's input but not its output, and a free-mode race may
 * never replay: the log still says what each job found (scripts/campaign counts it). */
static void log_finding(const char *kind, const char *text)
{
    const char *path = getenv("FTFUZZ_FINDINGS_LOG");
    if (!path || !*path) {
        return;
    }
    FILE *f = fopen(path, "a");
    if (f) {
        /* The first line only, and short: one write each, so the lines of parallel jobs
         * do not interleave. */
        int len = (int)strcspn(text, "\n");
        fprintf(f, "FINDING %s: %.*s\n", kind, len < 900 ? len : 900, text);
        fclose(f);
    }
}

static void vreport(const char *kind, const char *fmt, va_list ap)
{
    static char text[8192];
    vsnprintf(text, sizeof(text), fmt, ap);
    fprintf(stderr, "\n==ftfuzz== FINDING %s: %s\n", kind, text);
    log_finding(kind, text);
    print_program();
}

static void print_stack(void)
{
#ifdef HAVE_ASAN
    __sanitizer_print_stack_trace();
#else
    void *pcs[64];
    backtrace_symbols_fd(pcs, backtrace(pcs, 64), 2);
#endif
}

_Noreturn void report_finding(const char *kind, const char *fmt, ...)
{
    claim_report();
    va_list ap;
    va_start(ap, fmt);
    vreport(kind, fmt, ap);
    va_end(ap);
    fprintf(stderr, "==ftfuzz== stack of the thread that found it (thread %d, op %d):\n",
            ftf_here.tid, ftf_here.op);
    print_stack();
    fflush(stderr);
    abort();
}

/* The stuck thread's stack as the watchdog samples it: set by the signal's handler. */
static struct {
    atomic_bool wanted; /* the handler samples instead of printing */
    void *pcs[64];
    int n;
} sample;

static void on_stack_signal(int sig)
{
    (void)sig;
    if (atomic_load(&sample.wanted)) {
        sample.n = backtrace(sample.pcs, 64);
    }
    else {
        fprintf(stderr, "==ftfuzz== stack of worker thread %d (op %d):\n", ftf_here.tid, ftf_here.op);
        print_stack();
    }
    atomic_fetch_add(&signals_handled, 1);
}

/* Signals a worker and waits up to 2 s for its handler to have run; false if it did not. */
static bool signal_worker(pthread_t worker)
{
    int before = atomic_load(&signals_handled);
    if (pthread_kill(worker, STACK_SIGNAL) != 0) {
        return false;
    }
    for (int i = 0; i < 20000 && atomic_load(&signals_handled) == before; i++) {
        struct timespec ts = {0, 100 * 1000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&signals_handled) != before;
}

int report_backtrace(void **pcs, int max)
{
    sigset_t stack_signal, old;
    sigemptyset(&stack_signal);
    sigaddset(&stack_signal, STACK_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &stack_signal, &old);
    int n = backtrace(pcs, max);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return n;
}

enum { SAMPLES = 16 };

/* Where a stuck thread is stuck. A blocked thread's stack is the same every time, and
 * its top frames say where it waits. A looping one's top frames are wherever the loop
 * happened to be: a campaign's hundreds of inputs of one livelock would scatter over
 * dozens of stacks. What they share is the function the loop runs in: the innermost
 * frame every sample passes through. A poller is blocked too, though its stacks differ:
 * a stop-the-world waits in 1 ms steps for a thread that never reaches a safe point, and
 * blaming it would hide the loop. So a thread found in a wait in 3 samples of 4 is blocked.
 * Writes ", looping inside FN (...)" or ", blocked (...)" to `out`, or nothing if the
 * thread cannot be sampled; true if it loops. */
static bool describe_stuck_thread(int tid, char *out, size_t len)
{
    out[0] = '\0';
    pthread_t worker;
    if (!runtime_worker(tid, &worker)) {
        return false;
    }
    const char *handler = symbols_function((const void *)on_stack_signal);
    const char *names[SAMPLES][64];
    void *pcs[SAMPLES][64];
    int depth[SAMPLES];
    bool same = true;
    int waiting = 0;
    atomic_store(&sample.wanted, true);
    for (int s = 0; s < SAMPLES; s++) {
        if (!signal_worker(worker)) {
            atomic_store(&sample.wanted, false);
            return false;
        }
        int n = sample.n;
        /* Drop the handler's frame and the signal trampoline above it; keep the rest
         * outermost first, so every sample starts at the thread's start. */
        int skip = 0;
        while (skip < n && symbols_function(sample.pcs[skip]) != handler) {
            skip++;
        }
        skip = skip < n ? skip + 2 : 0;
        depth[s] = n - skip > 0 ? n - skip : 0;
        bool in_wait = false;
        for (int f = 0; f < depth[s]; f++) {
            pcs[s][f] = sample.pcs[n - 1 - f];
            names[s][f] = symbols_function(pcs[s][f]);
            in_wait = in_wait || symbols_parks(names[s][f]);
        }
        waiting += in_wait;
        same = same && (s == 0 || (depth[s] == depth[0] &&
                                   !memcmp(pcs[s], pcs[0], sizeof(void *) * (size_t)depth[s])));
        struct timespec gap = {0, 1000 * 1000};
        nanosleep(&gap, NULL);
    }
    atomic_store(&sample.wanted, false);
    if (same) {
        snprintf(out, len, ", blocked (%d samples of its stack, 1 ms apart, were the same)", SAMPLES);
        return false;
    }
    if (waiting >= SAMPLES * 3 / 4) {
        snprintf(out, len, ", blocked (%d of %d samples of its stack, 1 ms apart, were in a wait: "
                           "it waits, wakes and waits again)", waiting, SAMPLES);
        return false;
    }
    int common = depth[0];
    for (int s = 1; s < SAMPLES; s++) {
        int f = 0;
        while (f < common && f < depth[s] && names[s][f] == names[0][f]) {
            f++;
        }
        common = f;
    }
    if (common > 0 && names[0][common - 1]) {
        snprintf(out, len, ", looping inside %s (%d samples of its stack, 1 ms apart, "
                           "all pass through it and differ below)", names[0][common - 1], SAMPLES);
    }
    return true;
}

static void finding_stuck(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("stuck", fmt, ap);
    va_end(ap);
}

_Noreturn void report_stuck(const int64_t *ms, const int *ops, int bound_ms)
{
    claim_report();
    const ftf_run_t *run = atomic_load(&current);
    /* Threads at a barrier wait for the culprit, and so may threads blocked in an op: a
     * stop-the-world waits for a thread looping where it never reaches a safe point. So
     * blame a looping op first, then any op that is not a barrier, the longest of each. */
    static char where[FTF_MAX_THREADS][256];
    int culprit = -1;
    int64_t best = -1;
    for (int t = 0; t < FTF_MAX_THREADS; t++) {
        bool barrier = run && run->prog->ops[ops[t]].code == 0;
        bool looping = ms[t] >= 0 && !barrier && run && t < run->prog->nthreads &&
                       describe_stuck_thread(t, where[t], sizeof(where[t]));
        int64_t score = ms[t] < 0 ? -1
                                  : ms[t] + (barrier ? 0 : INT64_C(1) << 40) +
                                        (looping ? INT64_C(1) << 41 : 0);
        if (score > best) {
            culprit = t, best = score;
        }
    }
    /* A looping culprit may have started after the op that passed the bound: name that
     * one too, or "stuck for 48 ms (bound 1000 ms)" reads as a contradiction. */
    int longest = culprit;
    for (int t = 0; t < FTF_MAX_THREADS; t++) {
        longest = ms[t] > ms[longest] ? t : longest;
    }
    char desc[160] = "?", longest_desc[160] = "?", also[400] = "";
    if (run) {
        schedule_format_op(run->prog, ops[culprit], desc, sizeof(desc));
        schedule_format_op(run->prog, ops[longest], longest_desc, sizeof(longest_desc));
    }
    if (longest != culprit) {
        snprintf(also, sizeof(also), "; the bound was passed by thread %d in op %d (%s), %lld ms", longest,
                 ops[longest], longest_desc, (long long)ms[longest]);
    }
    finding_stuck("thread %d stuck in op %d (%s) for %lld ms (bound %d ms, FTFUZZ_WATCHDOG_MS)%s%s",
                  culprit, ops[culprit], desc, (long long)ms[culprit], bound_ms, where[culprit], also);
    for (int t = 0; t < FTF_MAX_THREADS; t++) {
        pthread_t worker;
        if (!run || t >= run->prog->nthreads || !runtime_worker(t, &worker)) {
            continue;
        }
        (void)signal_worker(worker);
    }
    fflush(stderr);
    abort();
}

#ifdef HAVE_ASAN
/* ASan prints its own report; this adds what to replay. */
static void after_asan_report(const char *text)
{
    const char *error = strstr(text, "ERROR: AddressSanitizer");
    log_finding("asan", error ? error : text);
    print_program();
}
#endif

void report_install_hooks(void)
{
    /* backtrace() loads its unwinder on first use: not in a signal handler. */
    void *pc;
    backtrace(&pc, 1);
    struct sigaction sa = {0};
    sa.sa_handler = on_stack_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(STACK_SIGNAL, &sa, NULL);
#ifdef HAVE_ASAN
    __asan_set_error_report_callback(after_asan_report);
#endif
}

uintptr_t report_exe_base(void)
{
    static uintptr_t base;
    if (!base) {
        Dl_info info;
        base = dladdr((void *)report_exe_base, &info) ? (uintptr_t)info.dli_fbase : 0;
    }
    return base;
}

void ftf_symbolize_offsets(const uintptr_t *offsets, int n, char (*out)[256])
{
    uintptr_t base = report_exe_base();
    const void **pcs = calloc((size_t)n + 1, sizeof(*pcs));
    for (int i = 0; i < n; i++) {
        pcs[i] = (const void *)(base + offsets[i]);
    }
    report_symbolize(pcs, n, out);
    free(pcs);
}

/* Keeps the path from the CPython source root on ("Objects/structmember.c:87"). */
static const char *source_relative(const char *path)
{
    static const char *const roots[] = {"/Include/", "/Objects/", "/Python/", "/Modules/",
                                        "/Parser/", "/drivers/"};
    const char *best = path;
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        const char *m = strstr(path, roots[i]);
        if (m && m + 1 > best) {
            best = m + 1;
        }
    }
    return best;
}

static const char *symbolizer(void)
{
    const char *env = getenv("FTFUZZ_SYMBOLIZER");
    if (env && *env) {
        return env;
    }
    static const char *const names[] = {"/usr/bin/llvm-symbolizer-19",
                                        "/usr/lib/llvm-19/bin/llvm-symbolizer",
                                        "/usr/bin/llvm-symbolizer"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (access(names[i], X_OK) == 0) {
            return names[i];
        }
    }
    return NULL;
}

/* The bytecode instruction whose case in the interpreter's generated_cases.c.h holds
 * `where` ("/path/Python/generated_cases.c.h:9348:21"): the nearest TARGET(NAME) above
 * that line. Every instruction is inlined into _PyEval_EvalFrameDefault, so its name is
 * what tells a switch in STORE_ATTR_SLOT from one in LOAD_GLOBAL. Empty if not there. */
static void instruction_at(const char *where, char *name, size_t len)
{
    name[0] = '\0';
    const char *at = strstr(where, "generated_cases.c.h:");
    if (!at) {
        return;
    }
    char path[512];
    snprintf(path, sizeof(path), "%.*s", (int)(at - where) + (int)strlen("generated_cases.c.h"), where);
    long target = atol(at + strlen("generated_cases.c.h:"));
    FILE *f = fopen(path, "r");
    char text[512];
    for (long n = 1; f && n <= target && fgets(text, sizeof(text), f); n++) {
        const char *t = strstr(text, "TARGET(");
        if (t) {
            snprintf(name, len, "%.*s", (int)strcspn(t + 7, ")"), t + 7);
        }
    }
    if (f) {
        fclose(f);
    }
}

void report_symbolize(const void *const *pcs, int n, char (*out)[256])
{
    uintptr_t base = report_exe_base();
    for (int i = 0; i < n; i++) {
        snprintf(out[i], 256, "exe+0x%lx", (unsigned long)((uintptr_t)pcs[i] - base));
    }
    const char *tool = symbolizer();
    char input[] = "/tmp/ftfuzz-pcs-XXXXXX";
    int fd = tool && n ? mkstemp(input) : -1;
    if (fd < 0) {
        return;
    }
    FILE *in = fdopen(fd, "w");
    for (int i = 0; i < n; i++) {
        /* A return address points after the call: step back into it. */
        fprintf(in, "0x%lx\n", (unsigned long)((uintptr_t)pcs[i] - base - 1));
    }
    fclose(in);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s --inlining --obj=/proc/%d/exe < %s 2>/dev/null", tool,
             (int)getpid(), input);
    FILE *res = popen(cmd, "r");
    /* Per address: function/location line pairs, innermost inlined frame first, then a
     * blank line. Keep the innermost frame and the function it is inlined into. */
    char line[512], fn[128] = "", loc[256] = "", inner[256] = "", op[64] = "";
    int i = 0, frames = 0;
    while (res && i < n && fgets(line, sizeof(line), res)) {
        line[strcspn(line, "\n")] = '\0';
        if (!*line) {
            if (frames > 1) {
                snprintf(out[i], 256, "%s in %s %s%s%s", inner, fn, loc, *op ? " " : "", op);
            }
            else if (frames == 1) {
                snprintf(out[i], 256, "%s%s%s", inner, *op ? " " : "", op);
            }
            i++, frames = 0;
            continue;
        }
        snprintf(fn, sizeof(fn), "%s", line);
        if (!fgets(line, sizeof(line), res)) {
            break;
        }
        line[strcspn(line, "\n")] = '\0';
        snprintf(loc, sizeof(loc), "%s", source_relative(line));
        char name[48];
        instruction_at(line, name, sizeof(name));
        snprintf(op, sizeof(op), "%s%s%s", *name ? "(" : "", name, *name ? ")" : "");
        if (frames++ == 0) {
            snprintf(inner, sizeof(inner), "%s %s", fn, loc);
        }
    }
    if (res) {
        pclose(res);
    }
    unlink(input);
}

/* The interpreter never frees some start-up allocations and is never finalized here, so
 * LeakSanitizer's exit check would report them on every run; leaked references to the
 * values under test are the canary audit's job. Objects live in mimalloc, not in ASan's
 * heap, so its 256 MB quarantine of freed malloc blocks buys little here and would be
 * most of a long run's memory: 16 MB. Stack use-after-return detection gives each of a
 * run's nine threads a fake stack when it starts: an eighth of a fuzzer's start-up
 * (0.32 -> 0.28 s on 3.14.7), which counts in its race against a stress script on two
 * cores, for bugs in stack frames, which are not the races looked for. ASAN_OPTIONS still
 * overrides each. */
#ifdef HAVE_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0:quarantine_size_mb=16:detect_stack_use_after_return=0";
}
#endif
