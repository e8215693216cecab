/* A thread of its own that starts the interpreter and then runs every input the engine
 * hands over. libFuzzer sets itself up (its corpus tables take 0.08 s on this kind of
 * machine) after LLVMFuzzerInitialize returns and before the first input; started from
 * there, the interpreter and the warm-up run beside that instead of before it. One
 * thread both starts the interpreter and runs every input, as when the caller runs them
 * itself: the objects the warm-up made keep the owner that later inputs decref them as,
 * and a serialized input takes the same path as under ftfuzz. */
#include <pthread.h>

#include "internal.h"

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool started;
    bool pending; /* an input is handed over and not yet run */
    ftf_target_t target;
    ftf_mode_t mode;
    const uint8_t *data;
    size_t size;
} d = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *driving_main(void *unused)
{
    (void)unused;
    ftf_init();
    pthread_mutex_lock(&d.mu);
    for (;;) {
        while (!d.pending) {
            pthread_cond_wait(&d.cv, &d.mu);
        }
        pthread_mutex_unlock(&d.mu);
        ftf_fuzz_one(d.target, d.mode, d.data, d.size);
        pthread_mutex_lock(&d.mu);
        d.pending = false;
        pthread_cond_broadcast(&d.cv);
    }
    return NULL;
}

void ftf_start_driving_thread(void)
{
    d.started = pthread_create(&d.thread, NULL, driving_main, NULL) == 0;
    if (!d.started) {
        ftf_init();
    }
}

bool driving_thread_run(ftf_target_t target, ftf_mode_t mode, const uint8_t *data, size_t size)
{
    if (!d.started || pthread_equal(pthread_self(), d.thread)) {
        return false;
    }
    pthread_mutex_lock(&d.mu);
    d.target = target, d.mode = mode, d.data = data, d.size = size;
    d.pending = true;
    pthread_cond_broadcast(&d.cv);
    while (d.pending) {
        pthread_cond_wait(&d.cv, &d.mu);
    }
    pthread_mutex_unlock(&d.mu);
    return true;
}
