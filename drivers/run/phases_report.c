/* ftf_phases_report: where the time of a fuzzer's runs goes, phase by phase, for the
 * inputs a fuzzer would get, through the same entry (ftf_fuzz_one). The interpreter's
 * start and warm-up come first and are not counted. */
#include <time.h>

#include "internal.h"

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void ftf_phases_report(ftf_target_t target, ftf_mode_t mode, const uint8_t *const *inputs,
                       const size_t *sizes, int n, int runs, FILE *out)
{
    ftf_init();
    phases_enable();
    double start = seconds_now();
    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < n; i++) {
            ftf_fuzz_one(target, mode, inputs[i], sizes[i]);
        }
    }
    double wall = seconds_now() - start;
    long total_runs = (long)runs * n;
    int64_t counted = 0;
    for (int p = 0; p < PHASE_COUNT; p++) {
        counted += phases_ns(p);
    }
    fprintf(out, "%ld runs of %d inputs (%s%s, switch points: %s) in %.2f s: %.0f runs/s, "
                 "without the engine's own work\n",
            total_runs, n, ftf_target_name(target), mode == FTF_MODE_SERIAL ? "_serial" : "",
            ftf_sched_points(), wall, total_runs / wall);
    fprintf(out, "%-40s %12s %8s\n", "phase", "us per run", "share");
    for (int p = 0; p < PHASE_COUNT; p++) {
        fprintf(out, "  %-38s %12.1f %7.1f%%\n", phases_name(p), phases_ns(p) / 1e3 / total_runs,
                counted ? 100.0 * phases_ns(p) / counted : 0.0);
    }
    fprintf(out, "  %-38s %12.1f\n", "all phases", counted / 1e3 / total_runs);
}
