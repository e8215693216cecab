/* The embedded interpreter and the worker threads, started once per process, and where
 * each thread is.
 *
 * Workers and their thread states live for the whole process: creating threads per
 * input would dominate the cost of an input and churn thread-state memory. Parked
 * workers are detached, so a stop-the-world request never waits for an idle thread. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "internal.h"

#ifndef FTF_DEFAULT_PYTHONHOME
#error "build with -DFTF_DEFAULT_PYTHONHOME=\"<prefix of the CPython build>\""
#endif

static ftf_world_t world;

_Thread_local ftf_pos_t ftf_here = {-1, -1};

const char *ftf_sched_points(void) { return FTF_SCHED_POINTS; }
const char *ftf_cpython_version(void) { return PY_VERSION; }

/* A job (one fn for workers 0..n-1) is handed out by bumping a futex word per worker and
 * handed back by bumping one more: only the job's own workers wake, and none takes a lock
 * to learn of it. The condition variable this replaced woke all eight workers for each
 * of an input's three jobs, and on one core their wake-ups and their fight for its
 * mutex made a serialized input of one op cost 87 context switches (now 40). */
static struct {
    pthread_t threads[FTF_MAX_THREADS];
    PyThreadState *tstates[FTF_MAX_THREADS];
    atomic_uint jobs[FTF_MAX_THREADS]; /* jobs handed to each worker */
    atomic_uint unfinished;            /* workers of the job still in fn */
    atomic_uint jobs_done;
    atomic_bool stopping;
    ftf_run_t *run;
    void (*fn)(ftf_run_t *, int);
    atomic_int ready;
} pool;

void runtime_futex_wait(atomic_uint *word, unsigned seen)
{
    while (atomic_load(word) == seen) {
        syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
    }
}

void runtime_futex_bump(atomic_uint *word)
{
    atomic_fetch_add(word, 1);
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int64_t runtime_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

ftf_world_t *runtime_world(void) { return &world; }

PyThreadState *runtime_worker_tstate(int tid) { return pool.tstates[tid]; }

bool runtime_worker(int tid, pthread_t *out)
{
    if (tid < 0 || tid >= atomic_load(&pool.ready)) {
        return false;
    }
    *out = pool.threads[tid];
    return true;
}

static void *worker_main(void *arg)
{
    int tid = (int)(intptr_t)arg;
    PyGILState_STATE g = PyGILState_Ensure();
    PyThreadState *ts = PyEval_SaveThread(); /* fn attaches through PyGILState_Ensure */
    pool.tstates[tid] = ts;
    atomic_fetch_add(&pool.ready, 1);
    for (unsigned done = 0;; done++) {
        runtime_futex_wait(&pool.jobs[tid], done);
        if (atomic_load(&pool.stopping)) {
            break;
        }
        pool.fn(pool.run, tid);
        if (atomic_fetch_sub(&pool.unfinished, 1) == 1) {
            runtime_futex_bump(&pool.jobs_done);
        }
    }
    PyEval_RestoreThread(ts);
    PyGILState_Release(g);
    return NULL;
}

void runtime_run_workers(ftf_run_t *run, int n, void (*fn)(ftf_run_t *, int))
{
    /* Detached before any worker starts: a stop-the-world in the run then finds this
     * thread parked every time, not attached some of the times. */
    Py_BEGIN_ALLOW_THREADS
    pool.run = run;
    pool.fn = fn;
    unsigned done = atomic_load(&pool.jobs_done);
    atomic_store(&pool.unfinished, n);
    for (int i = 0; i < n; i++) {
        runtime_futex_bump(&pool.jobs[i]);
    }
    runtime_futex_wait(&pool.jobs_done, done);
    Py_END_ALLOW_THREADS
}

/* At a normal exit, between inputs: workers delete their thread states and are joined.
 * An exit in the middle of a run (a finding aborts instead) leaves them be. */
static void stop_workers(void)
{
    if (atomic_load(&pool.unfinished) != 0) {
        return;
    }
    atomic_store(&pool.stopping, true);
    for (int i = 0; i < FTF_MAX_THREADS; i++) {
        runtime_futex_bump(&pool.jobs[i]);
    }
    for (int i = 0; i < FTF_MAX_THREADS; i++) {
        pthread_join(pool.threads[i], NULL);
    }
}

/* Where the standard library is: FTFUZZ_PYTHONHOME; else beside the executable, as in
 * an OSS-Fuzz $OUT (lib/python3.Nt/ next to the fuzzers, wherever the runner unpacked
 * them); else the prefix this was built against. */
static const char *python_home(void)
{
    static char dir[4096];
    const char *env = getenv("FTFUZZ_PYTHONHOME");
    if (env && *env) {
        return env;
    }
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 64);
    if (n > 0) {
        dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            char landmark[4160];
            snprintf(landmark, sizeof(landmark), "%s/lib/python%d.%dt/os.py", dir, PY_MAJOR_VERSION,
                     PY_MINOR_VERSION);
            if (access(landmark, R_OK) == 0) {
                return dir;
            }
        }
    }
    return FTF_DEFAULT_PYTHONHOME;
}

static void start_interpreter(void)
{
    /* UTF-8 whatever the locale, so every machine imports the same codec at start:
     * encodings.utf_8, which build-cpython byte-compiles. The C locale's ascii codec
     * had no .pyc and was compiled from source at each start, 11 of 150 ms. */
    PyPreConfig pre;
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.utf8_mode = 1;
    PyStatus st = Py_PreInitialize(&pre);
    if (PyStatus_Exception(st)) {
        fprintf(stderr, "ftfuzz: cannot pre-initialize CPython in UTF-8 mode: %s\n",
                st.err_msg ? st.err_msg : "unknown error");
        abort();
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0; /* the fuzzing engine owns the signals */
    config.site_import = 0;
    config.write_bytecode = 0;
    /* A fixed hash seed gives every run the same dict and set layouts. */
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    const char *home = python_home();
    st = PyConfig_SetBytesString(&config, &config.home, home);
    if (!PyStatus_Exception(st)) {
        st = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        fprintf(stderr, "ftfuzz: cannot start CPython with home %s: %s\n"
                        "ftfuzz: set FTFUZZ_PYTHONHOME to the prefix of the free-threaded build "
                        "(scripts/build-cpython prints it)\n",
                home, st.err_msg ? st.err_msg : "unknown error");
        abort();
    }
    if (world_init(&world)) {
        fprintf(stderr, "ftfuzz: cannot create the objects the ops race on: %s\n", world.error);
        abort();
    }
    PyEval_SaveThread();
}

void runtime_start(void)
{
    start_interpreter();
    /* One at a time: each makes its thread state, and the interpreter's list of them
     * (which a stop-the-world walks, one atomic per thread) is then in the same order
     * in every process. Nor may a worker still making it race with the first input. */
    for (int i = 0; i < FTF_MAX_THREADS; i++) {
        if (pthread_create(&pool.threads[i], NULL, worker_main, (void *)(intptr_t)i)) {
            fprintf(stderr, "ftfuzz: cannot create worker thread %d\n", i);
            abort();
        }
        while (atomic_load(&pool.ready) <= i) {
            sched_yield();
        }
    }
    atexit(stop_workers);
}
