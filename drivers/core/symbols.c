/* Function names of code addresses, from this executable's own ELF symbol table.
 *
 * Why not dladdr or llvm-symbolizer: the wait oracle classifies every wait of a run by
 * the functions on the waiter's stack, and most of CPython's are static (invisible to
 * dladdr, which reads only the dynamic symbols) while a symbolizer process per wait
 * would cost milliseconds. The static symbol table has every function with its size;
 * read once, a lookup is a binary search. Inlined functions have no symbol: a frame is
 * named after the function the compiler kept. */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

typedef struct {
    uintptr_t lo, hi; /* [lo, hi) in this process */
    const char *name; /* into the mapped string table */
} fn_t;

static struct {
    fn_t *fns;
    size_t n;
} T;

static int by_address(const void *a, const void *b)
{
    const fn_t *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void load(void)
{
    Dl_info info;
    uintptr_t base = dladdr((void *)load, &info) ? (uintptr_t)info.dli_fbase : 0;
    int fd = open("/proc/self/exe", O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        return;
    }
    const char *img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (img == MAP_FAILED) {
        return;
    }
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    /* A stripped executable has only .dynsym: still every exported function. */
    const Elf64_Shdr *tab = NULL;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_SYMTAB || (!tab && sh[i].sh_type == SHT_DYNSYM)) {
            tab = &sh[i];
        }
    }
    if (!tab) {
        return;
    }
    /* A position-dependent executable's symbols are absolute already. */
    if (eh->e_type == ET_EXEC) {
        base = 0;
    }
    const Elf64_Sym *syms = (const Elf64_Sym *)(img + tab->sh_offset);
    const char *strs = img + sh[tab->sh_link].sh_offset;
    size_t nsyms = tab->sh_size / sizeof(Elf64_Sym);
    T.fns = malloc(nsyms * sizeof(fn_t));
    for (size_t i = 0; T.fns && i < nsyms; i++) {
        if (ELF64_ST_TYPE(syms[i].st_info) == STT_FUNC && syms[i].st_size && syms[i].st_value) {
            uintptr_t lo = base + syms[i].st_value;
            T.fns[T.n++] = (fn_t){lo, lo + syms[i].st_size, strs + syms[i].st_name};
        }
    }
    qsort(T.fns, T.n, sizeof(fn_t), by_address);
}

static void ensure_loaded(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
}

const char *symbols_function(const void *pc)
{
    ensure_loaded();
    uintptr_t a = (uintptr_t)pc;
    size_t lo = 0, hi = T.n;
    while (lo < hi) { /* the first function starting after a */
        size_t mid = (lo + hi) / 2;
        if (T.fns[mid].lo <= a) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo && a < T.fns[lo - 1].hi ? T.fns[lo - 1].name : NULL;
}

int symbols_ranges(const char *name, uintptr_t (*out)[2], int cap)
{
    ensure_loaded();
    int n = 0;
    for (size_t i = 0; i < T.n; i++) {
        if (strcmp(T.fns[i].name, name) == 0) {
            if (n < cap) {
                out[n][0] = T.fns[i].lo;
                out[n][1] = T.fns[i].hi;
            }
            n++;
        }
    }
    return n;
}

bool symbols_named_like(const char *fn, const char *const *parts, size_t n)
{
    for (size_t i = 0; fn && i < n; i++) {
        if (strstr(fn, parts[i])) {
            return true;
        }
    }
    return false;
}

bool symbols_parks(const char *fn)
{
    static const char *const parts[] = {"Semaphore", "ParkingLot", "sem_", "pthread_cond_"};
    return symbols_named_like(fn, parts, sizeof(parts) / sizeof(parts[0]));
}
