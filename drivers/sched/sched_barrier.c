/* The barrier op: a thread waits until every other thread of the run is at a barrier or
 * has run its last op. The waiting goes through the run's strategy, so in a serialized
 * run a waiting thread hands the turn on. */
#include <pthread.h>
#include <sched.h>

#include "internal.h"

static pthread_mutex_t barrier_lock = PTHREAD_MUTEX_INITIALIZER;

/* Releases the threads at a barrier once nobody else can arrive. Holds barrier_lock. */
static void barrier_release_if_complete(ftf_run_t *run)
{
    int arrived = atomic_load(&run->barrier_arrived);
    if (arrived > 0 && arrived + atomic_load(&run->threads_done) == run->prog->nthreads) {
        atomic_store(&run->barrier_arrived, 0);
        atomic_fetch_add(&run->barrier_gen, 1);
        if (run->sched->wake) {
            run->sched->wake(&run->barrier_gen);
        }
    }
}

void sched_barrier_wait(ftf_run_t *run)
{
    pthread_mutex_lock(&barrier_lock);
    int gen = atomic_load(&run->barrier_gen);
    atomic_fetch_add(&run->barrier_arrived, 1);
    barrier_release_if_complete(run);
    pthread_mutex_unlock(&barrier_lock);
    /* Detached while waiting: a thread stopping the world must not wait for us. */
    Py_BEGIN_ALLOW_THREADS
    while (atomic_load(&run->barrier_gen) == gen) {
        if (run->sched->block) {
            run->sched->block(&run->barrier_gen, INT64_MAX);
        }
        else {
            sched_yield();
        }
    }
    Py_END_ALLOW_THREADS
}

void sched_barrier_thread_done(ftf_run_t *run)
{
    pthread_mutex_lock(&barrier_lock);
    atomic_fetch_add(&run->threads_done, 1);
    barrier_release_if_complete(run);
    pthread_mutex_unlock(&barrier_lock);
}
