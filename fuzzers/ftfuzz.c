/* ftfuzz: the standalone tool beside the fuzzers (no fuzzing engine needed).
 *
 *   ftfuzz print     [--target T] FILE         the readable program of a crash file
 *   ftfuzz compile   FILE.txt OUT              bytes that decode to a readable program
 *   ftfuzz reproduce [--target T] [--runs N] [--until-found] [--expect clean|finding|KIND[|KIND...]] FILE
 *   ftfuzz run       [--target T] FILE         one run in this process
 *   ftfuzz minimize  [--target T] [--runs N] [--expect KIND] FILE [OUT.txt]
 *                                              the smallest program that still finds
 *                                              KIND (default: what FILE finds)
 *   ftfuzz dict      TARGET                    a libFuzzer/AFL++ dictionary for a fuzzer
 *   ftfuzz replay-check [--target T] FILE      a serialized program, run in two fresh
 *                                              processes and twice in one: do the
 *                                              paths match? (first difference if not)
 *   ftfuzz phases    --target T [--runs N] FILE...
 *                                              where the time of the runs goes, by phase
 *
 * FILE is a readable schedule (it names its target) or fuzz bytes; for bytes the target
 * comes from --target or from a path component fuzz_<target> or corpus/<fuzzer>.
 * reproduce runs each attempt in a child process, so a finding ends only that attempt,
 * and counts the attempts that found something, by kind; --until-found stops at the
 * first that did (what a triage needs: one report per input, not a replay rate).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ftfuzz.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: ftfuzz print     [--target T] FILE\n"
            "       ftfuzz compile   FILE.txt OUT\n"
            "       ftfuzz reproduce [--target T] [--runs N] [--until-found] [--expect clean|finding|KIND] FILE\n"
            "       ftfuzz run       [--target T] FILE\n"
            "       ftfuzz minimize  [--target T] [--runs N] [--expect KIND] FILE [OUT.txt]\n"
            "       ftfuzz replay-check [--target T] FILE\n"
            "       ftfuzz dict      TARGET\n"
            "       ftfuzz version   (the CPython it was built against)\n"
            "       ftfuzz specialization --target T [--runs N] [FILE...]\n"
            "       ftfuzz profile   [--target T] FILE...   (where workers wait for locks)\n"
            "       ftfuzz phases    --target T [--runs N] FILE...   (where run time goes)\n"
            "targets: slots members class globals mixed selftest, each with _serial for a\n"
            "serialized fuzzer's input (slots_serial)\n");
    exit(2);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ftfuzz: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t r; (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            buf = realloc(buf, (cap *= 2) + 1);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static bool looks_like_text(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c != '\n' && c != '\t' && c != '\r' && (c < 0x20 || c > 0x7e)) {
            return false;
        }
    }
    return strstr(buf, "target ") != NULL;
}

/* The fuzzer a path names (corpus/fuzz_slots_serial/x, fuzz-work/fuzz_slots/crashes/y):
 * the last fuzz_* component, else the last component that is a target name. */
static int target_from_path(const char *path, ftf_mode_t *mode)
{
    char *copy = strdup(path);
    int found = -1;
    bool fuzz_prefixed = false;
    for (char *save = NULL, *part = strtok_r(copy, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        int t = ftf_target_from_name(part);
        bool prefixed = strncmp(part, "fuzz_", 5) == 0;
        if (t >= 0 && (prefixed || !fuzz_prefixed)) {
            found = t;
            *mode = ftf_mode_from_name(part);
            fuzz_prefixed = prefixed;
        }
    }
    free(copy);
    return found;
}

static ftf_program_t *load_program(const char *path, int target, ftf_mode_t mode)
{
    size_t len;
    char *buf = read_file(path, &len);
    ftf_program_t *p;
    if (looks_like_text(buf, len)) {
        char err[256];
        p = ftf_program_parse(buf, err, sizeof(err));
        if (!p) {
            fprintf(stderr, "ftfuzz: %s: %s\n", path, err);
            exit(2);
        }
    }
    else {
        target = target >= 0 ? target : target_from_path(path, &mode);
        if (target < 0) {
            fprintf(stderr, "ftfuzz: %s is fuzz bytes and its path names no fuzzer; give "
                            "--target slots|members|class|globals|mixed|selftest, with _serial "
                            "for a serialized fuzzer's input\n", path);
            exit(2);
        }
        p = ftf_program_decode(target, mode, (const uint8_t *)buf, len);
    }
    free(buf);
    return p;
}

/* The kind of finding in a child's output: an oracle's, ASan's, or a bare crash. */
static void finding_kind(const char *out, int status, char *kind, size_t len)
{
    const char *m;
    if ((m = strstr(out, "==ftfuzz== FINDING "))) {
        sscanf(m, "==ftfuzz== FINDING %63[^:]", kind);
    }
    else if (strstr(out, "ftfuzz: cannot start CPython")) {
        snprintf(kind, len, "interpreter-did-not-start");
    }
    else if ((m = strstr(out, "ERROR: AddressSanitizer: "))) {
        char what[48] = "";
        sscanf(m, "ERROR: AddressSanitizer: %47s", what);
        snprintf(kind, len, "asan-%s", what);
    }
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        snprintf(kind, len, "clean");
    }
    else if (WIFSIGNALED(status)) {
        snprintf(kind, len, "signal-%d", WTERMSIG(status));
    }
    else {
        snprintf(kind, len, "exit-%d", WEXITSTATUS(status));
    }
}

static int run_child(const ftf_program_t *p, char **out)
{
    int fds[2];
    if (pipe(fds)) {
        perror("ftfuzz: pipe");
        exit(2);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        ftf_program_run(p);
        if (ftf_program_mode(p) == FTF_MODE_SERIAL) {
            ftf_print_last_schedule(stderr);
        }
        _exit(0);
    }
    close(fds[1]);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (ssize_t r; (r = read(fds[0], buf + n, cap - n)) > 0;) {
        n += (size_t)r;
        if (n == cap) {
            buf = realloc(buf, (cap *= 2) + 1);
        }
    }
    buf[n] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    *out = buf;
    return status;
}

static bool kind_listed(const char *kind, const char *list)
{
    size_t n = strlen(kind);
    for (const char *p = list; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL) {
        if (strncmp(p, kind, n) == 0 && (p[n] == '|' || p[n] == '\0')) {
            return true;
        }
    }
    return false;
}

static int reproduce(const ftf_program_t *p, int runs, bool until_found, const char *expect)
{
    enum { MAX_KINDS = 16 };
    char kinds[MAX_KINDS][64];
    int counts[MAX_KINDS] = {0}, nkinds = 0, found = 0, r;
    bool shown = false;
    printf("ftfuzz: program:\n");
    ftf_program_print(p, stdout);
    for (r = 0; r < runs && !(until_found && found); r++) {
        char *out, kind[64] = "";
        int status = run_child(p, &out);
        finding_kind(out, status, kind, sizeof(kind));
        if (strcmp(kind, "clean") != 0) {
            found++;
            if (!shown) {
                printf("ftfuzz: run %d of %d found %s; its report:\n%s", r + 1, runs, kind, out);
                shown = true;
            }
        }
        else if (r == 0 && ftf_program_mode(p) == FTF_MODE_SERIAL) {
            printf("ftfuzz: run 1 found nothing; its schedule:\n%s", out);
        }
        free(out);
        int k = 0;
        while (k < nkinds && strcmp(kinds[k], kind) != 0) {
            k++;
        }
        if (k == nkinds && nkinds < MAX_KINDS) {
            snprintf(kinds[nkinds++], sizeof(kinds[0]), "%s", kind);
        }
        counts[k < MAX_KINDS ? k : MAX_KINDS - 1]++;
    }
    printf("ftfuzz: %d of %d runs reproduced a finding", found, r);
    for (int k = 0; k < nkinds; k++) {
        printf("%s %s x%d", k ? "," : ":", kinds[k], counts[k]);
    }
    printf("\n");
    if (!expect) {
        return 0;
    }
    bool ok;
    if (strcmp(expect, "clean") == 0) {
        ok = found == 0;
    }
    else if (strcmp(expect, "finding") == 0) {
        ok = found > 0;
    }
    else {
        /* Each run finds one of the expected kinds ("a|b") or nothing: a racy finding may
         * not show every time in free mode, but a different finding is never expected.
         * A serialized schedule is the same execution every time: every run finds it. */
        ok = ftf_program_mode(p) == FTF_MODE_SERIAL ? found == r : found > 0;
        for (int k = 0; k < nkinds; k++) {
            ok = ok && (strcmp(kinds[k], "clean") == 0 || kind_listed(kinds[k], expect));
        }
    }
    printf("ftfuzz: expected %s: %s\n", expect, ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
}

/* Does p still find `kind`? A serialized program is the same execution every time, so
 * one run decides; a free-mode one gets `runs` attempts. */
static bool still_finds(const ftf_program_t *p, const char *kind, int runs)
{
    if (ftf_program_mode(p) == FTF_MODE_SERIAL) {
        runs = 1;
    }
    for (int r = 0; r < runs; r++) {
        char *out, got[64] = "";
        int status = run_child(p, &out);
        finding_kind(out, status, got, sizeof(got));
        free(out);
        if (kind_listed(got, kind)) {
            return true;
        }
    }
    return false;
}

static int minimize(ftf_program_t *p, const char *expect, int runs, const char *out_path)
{
    char kind[64];
    if (expect) {
        snprintf(kind, sizeof(kind), "%s", expect);
    }
    else {
        char *out;
        int status = run_child(p, &out);
        finding_kind(out, status, kind, sizeof(kind));
        free(out);
        if (strcmp(kind, "clean") == 0) {
            fprintf(stderr, "ftfuzz: the program finds nothing to minimize for (a free-mode "
                            "race may need --runs N and --expect KIND)\n");
            return 1;
        }
    }
    if (!still_finds(p, kind, runs)) {
        fprintf(stderr, "ftfuzz: the program does not find %s%s; nothing to minimize\n", kind,
                ftf_program_mode(p) == FTF_MODE_SERIAL ? "" : " in its --runs attempts");
        return 1;
    }
    int tried = 0, kept = 0;
    for (int step = 0;; step++) {
        ftf_program_t *c = ftf_program_shrink(p, step);
        if (!c) {
            break;
        }
        tried++;
        if (still_finds(c, kind, runs)) {
            ftf_program_free(p);
            p = c;
            kept++;
            step = -1; /* a smaller program: its candidates from the first */
        }
        else {
            ftf_program_free(c);
        }
    }
    printf("ftfuzz: minimized for %s: %d of %d simplifications kept\n", kind, kept, tried);
    ftf_program_print(p, stdout);
    if (ftf_program_mode(p) == FTF_MODE_SERIAL) {
        char *out;
        run_child(p, &out);
        const char *account = strstr(out, "==ftfuzz== serialized:");
        printf("%s", account ? account : out);
        free(out);
    }
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (!f) {
            fprintf(stderr, "ftfuzz: cannot write %s: %s\n", out_path, strerror(errno));
            return 2;
        }
        fprintf(f, "# minimized by ftfuzz minimize: still finds %s\n", kind);
        ftf_program_print(p, f);
        fclose(f);
    }
    ftf_program_free(p);
    return 0;
}

/* Runs p `times` times in a fresh process, tracing run i to paths[i]. A process that did
 * not exit normally (a finding aborts it) is said, with its report's FINDING line: its
 * trace ends where it died, which alone would read as a different path. */
static void traced_child(const ftf_program_t *p, int times, char (*paths)[64], const char *what)
{
    char err[80];
    snprintf(err, sizeof(err), "%s.stderr", paths[0]);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        freopen(err, "w", stderr);
        for (int i = 0; i < times; i++) {
            setenv("FTFUZZ_TRACE", paths[i], 1);
            ftf_program_run(p);
        }
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        size_t len;
        char *text = read_file(err, &len);
        char *finding = strstr(text, "FINDING");
        if (finding) {
            finding[strcspn(finding, "\n")] = '\0';
        }
        printf("ftfuzz: %s ended %s %d: %s\n", what, WIFSIGNALED(status) ? "by signal" : "with status",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
               finding ? finding : "no FINDING in its report");
        free(text);
    }
    unlink(err);
}

static char **read_lines(const char *path, int *n)
{
    size_t len;
    char *buf = read_file(path, &len);
    int cap = 1024;
    char **lines = malloc(sizeof(char *) * (size_t)cap);
    *n = 0;
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (*n == cap) {
            lines = realloc(lines, sizeof(char *) * (size_t)(cap *= 2));
        }
        lines[(*n)++] = l;
    }
    return lines; /* lines[0] is buf, to free */
}

/* Prints a trace line with its code location: "412 t1 pc +0x6d923e" -> "... at f file:line". */
static void print_point(const char *label, const char *line)
{
    unsigned long off;
    char where[1][256] = {""};
    const char *pc = strstr(line, "pc +0x");
    if (pc && sscanf(pc, "pc +0x%lx", &off) == 1) {
        uintptr_t o = off;
        ftf_symbolize_offsets(&o, 1, where);
    }
    printf("  %-24s %s%s%s\n", label, line, *where[0] ? " at " : "", where[0]);
}

static int compare_traces(const char *a, const char *b, const char *what)
{
    if (access(b, F_OK) != 0) {
        printf("ftfuzz: %s: not compared, the first run ended its process (a finding)\n", what);
        return 0;
    }
    int na, nb;
    char **la = read_lines(a, &na), **lb = read_lines(b, &nb);
    int i = 0;
    while (i < na && i < nb && strcmp(la[i], lb[i]) == 0) {
        i++;
    }
    int differ = i < na || i < nb;
    if (!differ) {
        printf("ftfuzz: %s: same path, %d scheduling points\n", what, na);
    }
    else {
        printf("ftfuzz: %s: paths differ at scheduling point %d (of %d and %d):\n", what, i + 1, na, nb);
        if (i > 0) {
            print_point("last common:", la[i - 1]);
        }
        print_point("first run:", i < na ? la[i] : "(ended)");
        print_point("second run:", i < nb ? lb[i] : "(ended)");
    }
    if (na) {
        free(la[0]);
    }
    if (nb) {
        free(lb[0]);
    }
    free(la);
    free(lb);
    return differ;
}

static int replay_check(const ftf_program_t *p)
{
    if (ftf_program_mode(p) != FTF_MODE_SERIAL) {
        fprintf(stderr, "ftfuzz: replay-check compares serialized runs; this is a free-mode "
                        "program (add 'schedule serial', or use a _serial fuzzer's input)\n");
        return 2;
    }
    char dir[] = "/tmp/ftfuzz-replay-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("ftfuzz: mkdtemp");
        return 2;
    }
    char paths[4][64];
    for (int i = 0; i < 4; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/run%d", dir, i);
    }
    traced_child(p, 1, paths, "the first fresh process");
    traced_child(p, 1, paths + 1, "the second fresh process");
    traced_child(p, 2, paths + 2, "the process running it twice");
    int rc = compare_traces(paths[0], paths[1], "two fresh processes");
    rc |= compare_traces(paths[2], paths[3], "first and second run in one process");
    for (int i = 0; i < 4; i++) {
        unlink(paths[i]);
    }
    rmdir(dir);
    return rc;
}

/* Whole ops (and for a serialized fuzzer, whole switches) as dictionary words: the
 * mutator can then insert or overwrite one op at a time (drivers/core/schedule.c has the layout). */
static int print_dict(const char *name)
{
    int target = ftf_target_from_name(name);
    if (target < 0) {
        fprintf(stderr, "ftfuzz: unknown fuzzer '%s'\n", name);
        return 2;
    }
    for (int code = 0; code < ftf_target_op_count(target); code++) {
        char word[64];
        snprintf(word, sizeof(word), "%s", ftf_target_op_name(target, code));
        for (char *c = word; *c; c++) {
            *c = (*c == '.' || *c == '-') ? '_' : *c;
        }
        printf("%s=\"\\x00\\x%02x\\x00\\x00\"\n", word, code);
        if (code > 0) { /* and on another thread, repeated, with a fresh value per store */
            printf("%s_x16_new_each_t1=\"\\x01\\x%02x\\xe0\\x00\"\n", word, code);
        }
    }
    if (ftf_mode_from_name(name) == FTF_MODE_SERIAL) {
        for (int t = 0; t < 4; t++) {
            printf("switch_16_t%d=\"\\x10\\x00\\x%02x\"\n", t, t);
            printf("switch_256_t%d=\"\\x00\\x01\\x%02x\"\n", t, t);
        }
    }
    return 0;
}

/* ftfuzz specialization --target T [--runs N] [FILE...]: exit 1 when a hot instruction
 * that CPython can specialize is generic on some worker after the warm-up. */
static int specialization(int argc, char **argv)
{
    int target = -1, runs = 1, n = 0;
    ftf_program_t *progs[64];
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
            target = ftf_target_from_name(argv[++i]);
        }
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        }
        else if (argv[i][0] == '-' || n == 64 || target < 0) {
            usage();
        }
        else {
            progs[n] = load_program(argv[i], target, FTF_MODE_FREE);
            if ((int)ftf_program_target(progs[n++]) != target) {
                fprintf(stderr, "ftfuzz: %s is a program of another target than %s\n", argv[i],
                        ftf_target_name(target));
                return 2;
            }
        }
    }
    if (target < 0 || runs < 1) {
        usage();
    }
    int missing = ftf_specialization_report(target, progs, n, runs, stdout);
    for (int i = 0; i < n; i++) {
        ftf_program_free(progs[i]);
    }
    return missing ? 1 : 0;
}

/* ftfuzz profile [--target T] FILE...: the contention profile of the programs. */
static int profile(int argc, char **argv)
{
    int target = -1, n = 0;
    ftf_mode_t mode = FTF_MODE_FREE;
    ftf_program_t *progs[1024];
    const char *names[1024];
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
            mode = ftf_mode_from_name(argv[++i]);
            if ((target = ftf_target_from_name(argv[i])) < 0) {
                usage();
            }
        }
        else if (argv[i][0] == '-' || n == 1024) {
            usage();
        }
        else {
            names[n] = argv[i];
            progs[n++] = load_program(argv[i], target, mode);
        }
    }
    if (n == 0) {
        usage();
    }
    int waits = ftf_profile_report(progs, names, n, stdout);
    for (int i = 0; i < n; i++) {
        ftf_program_free(progs[i]);
    }
    return waits < 0 ? 2 : 0;
}

/* ftfuzz phases --target T [--runs N] FILE...: the phase profile of fuzz-byte inputs. */
static int phases(int argc, char **argv)
{
    int target = -1, runs = 10, n = 0;
    ftf_mode_t mode = FTF_MODE_FREE;
    static const uint8_t *inputs[4096];
    static size_t sizes[4096];
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
            mode = ftf_mode_from_name(argv[++i]);
            target = ftf_target_from_name(argv[i]);
        }
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        }
        else if (argv[i][0] == '-' || n == 4096) {
            usage();
        }
        else {
            inputs[n] = (const uint8_t *)read_file(argv[i], &sizes[n]);
            n++;
        }
    }
    if (target < 0 || runs < 1 || n == 0) {
        usage();
    }
    ftf_phases_report(target, mode, inputs, sizes, n, runs, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "version") == 0) {
        printf("%s\n", ftf_cpython_version());
        return 0;
    }
    if (argc < 3) {
        usage();
    }
    if (strcmp(argv[1], "profile") == 0) {
        return profile(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "phases") == 0) {
        return phases(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "specialization") == 0) {
        return specialization(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "dict") == 0) {
        return print_dict(argv[2]);
    }
    const char *cmd = argv[1], *expect = NULL, *file = NULL, *out = NULL;
    int target = -1, runs = 1;
    bool until_found = false;
    ftf_mode_t mode = FTF_MODE_FREE;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
            target = ftf_target_from_name(argv[++i]);
            mode = ftf_mode_from_name(argv[i]);
            if (target < 0) {
                fprintf(stderr, "ftfuzz: unknown target '%s'\n", argv[i]);
                usage();
            }
        }
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1) {
                fprintf(stderr, "ftfuzz: --runs needs a positive number\n");
                usage();
            }
        }
        else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
            expect = argv[++i];
        }
        else if (strcmp(argv[i], "--until-found") == 0 && strcmp(cmd, "reproduce") == 0) {
            until_found = true;
        }
        else if (argv[i][0] == '-') {
            usage();
        }
        else if (!file) {
            file = argv[i];
        }
        else if (!out) {
            out = argv[i];
        }
        else {
            usage();
        }
    }
    if (!file) {
        usage();
    }
    ftf_program_t *p = load_program(file, target, mode);
    int rc = 0;
    if (strcmp(cmd, "print") == 0) {
        ftf_program_print(p, stdout);
    }
    else if (strcmp(cmd, "compile") == 0) {
        if (!out) {
            usage();
        }
        uint8_t bytes[FTF_MAX_ENCODED];
        size_t n = ftf_program_encode(p, bytes, sizeof(bytes));
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(bytes, 1, n, f) != n || fclose(f)) {
            fprintf(stderr, "ftfuzz: cannot write %s: %s\n", out, strerror(errno));
            rc = 2;
        }
    }
    else if (strcmp(cmd, "reproduce") == 0) {
        rc = reproduce(p, runs, until_found, expect);
    }
    else if (strcmp(cmd, "run") == 0) {
        ftf_program_run(p);
        if (ftf_program_mode(p) == FTF_MODE_SERIAL) {
            ftf_print_last_schedule(stderr);
        }
    }
    else if (strcmp(cmd, "replay-check") == 0) {
        rc = replay_check(p);
    }
    else if (strcmp(cmd, "minimize") == 0) {
        rc = minimize(p, expect, runs, out);
        p = NULL; /* minimize frees what it shrank */
    }
    else {
        usage();
    }
    ftf_program_free(p);
    return rc;
}
