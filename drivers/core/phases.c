/* Where a run's time goes, phase by phase (`ftfuzz phases`): each mark closes the phase
 * that ran since the previous mark. Off until phases_enable(): then a mark is one
 * clock read; otherwise one untaken branch. */
#include <time.h>

#include "internal.h"

static const char *const names[PHASE_COUNT] = {
    [PHASE_DECODE] = "decode the input",
    [PHASE_RUN_BEGIN] = "pinned canaries, oracles' run state",
    [PHASE_CACHES] = "type cache, free lists (serialized)",
    [PHASE_COLLECT] = "collection before run (serialized)",
    [PHASE_WORLD_SETUP] = "world reset, starting values",
    [PHASE_WARM_STATE] = "specialized bytecode restored",
    [PHASE_OPS] = "the ops (workers, scheduler)",
    [PHASE_HISTORY_CHECK] = "linearizability check",
    [PHASE_DRAIN] = "drain refcount merges",
    [PHASE_AUDIT] = "reference audit",
    [PHASE_TEARDOWN] = "teardown, drain, dead check",
};

static struct {
    bool on;
    int64_t last;
    int64_t ns[PHASE_COUNT];
} P;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void phases_enable(void) { P.on = true; }

void phases_restart(void)
{
    if (P.on) {
        P.last = now_ns();
    }
}

void phases_mark(ftf_phase_t done)
{
    if (P.on) {
        int64_t t = now_ns();
        P.ns[done] += t - P.last;
        P.last = t;
    }
}

int64_t phases_ns(ftf_phase_t phase) { return P.ns[phase]; }

const char *phases_name(ftf_phase_t phase) { return names[phase]; }
