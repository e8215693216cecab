/* ftfuzz: the standalone tool beside the fuzzers (no fuzzing engine needed).
 *
 *   ftfuzz print     [--target T] FILE         the readable program of a crash file
 *   ftfuzz compile   FILE.txt OUT              bytes that decode to a readable program
 *   ftfuzz reproduce [--target T] [--runs N] [--expect clean|finding|KIND[|KIND...]] FILE
 *   ftfuzz run       [--target T] FILE         one run in this process
 *
 * FILE is a readable schedule (it names its target) or fuzz bytes; for bytes the target
 * comes from --target or from a path component fuzz_<target> or corpus/<fuzzer>.
 * reproduce runs each attempt in a child process, so a finding ends only that attempt,
 * and counts the attempts that found something, by kind.
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
            "       ftfuzz reproduce [--target T] [--runs N] [--expect clean|finding|KIND] FILE\n"
            "       ftfuzz run       [--target T] FILE\n"
            "targets: slots members class globals mixed selftest\n");
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

static int target_from_path(const char *path)
{
    char *copy = strdup(path);
    int found = -1;
    for (char *save = NULL, *part = strtok_r(copy, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        int t = ftf_target_from_name(part);
        if (t >= 0 && (strncmp(part, "fuzz_", 5) == 0 || found < 0)) {
            found = t;
        }
    }
    free(copy);
    return found;
}

static ftf_program_t *load_program(const char *path, int target)
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
        target = target >= 0 ? target : target_from_path(path);
        if (target < 0) {
            fprintf(stderr, "ftfuzz: %s is fuzz bytes and its path names no target; "
                            "give --target slots|members|class|globals|mixed|selftest\n", path);
            exit(2);
        }
        p = ftf_program_decode(target, (const uint8_t *)buf, len);
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

static int reproduce(const ftf_program_t *p, int runs, const char *expect)
{
    enum { MAX_KINDS = 16 };
    char kinds[MAX_KINDS][64];
    int counts[MAX_KINDS] = {0}, nkinds = 0, found = 0;
    bool shown = false;
    printf("ftfuzz: program:\n");
    ftf_program_print(p, stdout);
    for (int r = 0; r < runs; r++) {
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
    printf("ftfuzz: %d of %d runs reproduced a finding", found, runs);
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
         * not show every time in free mode, but a different finding is never expected. */
        ok = found > 0;
        for (int k = 0; k < nkinds; k++) {
            ok = ok && (strcmp(kinds[k], "clean") == 0 || kind_listed(kinds[k], expect));
        }
    }
    printf("ftfuzz: expected %s: %s\n", expect, ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        usage();
    }
    const char *cmd = argv[1], *expect = NULL, *file = NULL, *out = NULL;
    int target = -1, runs = 1;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
            target = ftf_target_from_name(argv[++i]);
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
    ftf_program_t *p = load_program(file, target);
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
        rc = reproduce(p, runs, expect);
    }
    else if (strcmp(cmd, "run") == 0) {
        ftf_program_run(p);
    }
    else {
        usage();
    }
    ftf_program_free(p);
    return rc;
}
