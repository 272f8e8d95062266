/* allocfail - make the k-th allocation of a login fail, for chosen k, and
 * watch what the module does: crash, leak, or (worst) PAM_SUCCESS for a login
 * that did not really complete.
 *
 *   allocfail -s SERVICE -d CONFDIR -u USER [-c CACHEDIR] [-L STANDIN_LOG]
 *             [-b SITES_OUT] [-k K,K,...] [-r FROM:TO[:STEP]] [-K FILE]
 *             [-t] [-P] [-N] [-X] [-T SECONDS]
 *
 * Interposition: this executable defines malloc, calloc, realloc, free,
 * strdup, strndup, reallocarray, posix_memalign, aligned_alloc, memalign,
 * valloc and pvalloc. Symbol interposition makes every shared object in the
 * process use them - libpam, the module, libcurl, OpenSSL (CRYPTO_malloc),
 * jansson, nss_wrapper, and glibc's own internal calls (fopen, getline,
 * opendir, ...). They forward to glibc's allocator (__libc_malloc & co.) and
 * keep a table of every live block. An allocation counter is armed only
 * around pam_authenticate.
 *
 * One child per k: the parent calls pam_start_confdir once (loading the
 * module) and forks a child per k, so every login starts from the same state
 * - OpenSSL and libcurl not yet initialised, as in a fresh sshd connection
 * process. The child empties the registration cache (-c), arms the counter
 * to fail allocation number k (only that one; -P: every one from k on), runs
 * pam_authenticate, disarms, calls pam_end, and reports through a pipe.
 * k = 0 (nothing fails) always runs first, as the baseline.
 *
 * Leaks: after pam_end the child looks for blocks allocated while armed that
 * nothing points to any more, the way LeakSanitizer does: roots are the
 * writable segments of every loaded object, the stack above the current
 * frame, and the other writable anonymous mappings that hold no heap blocks
 * (thread control block, static TLS, ld.so's early allocations); from them,
 * every word that points into a live block marks it, and marked blocks are
 * scanned in turn. Blocks allocated while armed and left unmarked are lost
 * ("definitely" or "indirectly"). Process-global state that is still
 * referenced (OpenSSL's one-time initialisation, its per-thread error queue,
 * glibc's NSS and time zone state) is reachable and so not reported. A
 * pointer-like word anywhere reachable keeps a block alive, so a leak can be
 * missed, never invented. -N skips the scan (for valgrind runs); -X makes
 * the conversation function leak a two-block chain in every login, as a
 * check that the scan finds what it should.
 *
 * Sleeping: clock_nanosleep and nanosleep are interposed to return at once,
 * so the module's CreateToken polling does not wait `interval` seconds (the
 * stand-in must then run with enforce_interval=false); signalfd fails, so
 * the module's interruptible wait takes its fallback of short sleeps
 * instead of a poll that would really wait.
 *
 * Output, one line per k:
 *   k=K rc=PAM_CODE allocs=N failed=0|1 site=OBJ+0xOFF(SYM) live=L lost=M
 *       log=START-END exit=STATUS ms=T
 * live: blocks allocated while armed still live after pam_end; lost: those of
 * them no longer reachable; log: the byte range this login added to the
 * stand-in log (-L); exit: "0", "signal:N", "status:N" or "timeout". Each lost
 * block follows as "  leak k=K size=S seq=I" plus its stack ("    #N ...";
 * only the allocating call site unless -t). With -t the failed allocation's
 * stack follows as "  failed-allocation k=K". A crashing child prints its
 * stack (and the failed allocation's) on stderr. -b also writes the
 * baseline's call site (with -t its stack) of every allocation index to
 * SITES_OUT, one line each: "INDEX OBJ+0xOFF(SYM) < OBJ+0xOFF(SYM) < ...".
 *
 * Environment: run it with LD_PRELOAD=libnss_wrapper.so and
 * NSS_WRAPPER_PASSWD/NSS_WRAPPER_GROUP for the local user, or use a real one.
 * tests/alloc/run.py does all of this; see docs/fuzzing.md. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tools/pam_code_name.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern char __executable_start[], etext[]; /* this driver's code */

/* ------------------------------------------------- bookkeeping memory */

/* Everything the driver itself keeps lives in its own mappings, outside the
 * heap it examines, and is left out of the leak scan's roots. */
#define MAX_OWN_MAPS 16
static struct {
    uintptr_t lo, hi;
} own_maps[MAX_OWN_MAPS];
static int n_own_maps;

static void *own_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
        static const char msg[] = "allocfail: mmap failed\n";
        write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(3);
    }
    if (n_own_maps < MAX_OWN_MAPS)
        own_maps[n_own_maps].lo = (uintptr_t)p, own_maps[n_own_maps++].hi = (uintptr_t)p + bytes;
    return p;
}

static bool is_own_map(uintptr_t lo, uintptr_t hi)
{
    for (int i = 0; i < n_own_maps; i++)
        if (lo < own_maps[i].hi && own_maps[i].lo < hi)
            return true;
    return false;
}

/* ------------------------------------------------------- the block table */

#define TABLE_BITS 20 /* 1M slots: a login has ~15k allocations */
#define TABLE_SIZE (1u << TABLE_BITS)
#define BT_DEPTH 24
#define MAX_REPORTED 64

struct slot {
    void *ptr; /* NULL: empty; TOMBSTONE: deleted */
    size_t size;
    uintptr_t site; /* immediate caller */
    long seq;       /* allocation index while armed; 0: made while disarmed */
};
#define TOMBSTONE ((void *)1)

static struct slot *table; /* every live block of the process */
static void **stacks;      /* -t: BT_DEPTH frames per slot (armed blocks only) */
static void **site_log;    /* -b: the stack (BT_DEPTH frames) of every armed allocation */
static long site_log_cap;

static atomic_int armed;
static atomic_long counter; /* allocations seen while armed */
static long fail_at;        /* 0: never */
static bool fail_from_k;    /* -P */
static bool tracing;        /* -t */
static atomic_int failed;
static void *fail_site;
static void *fail_bt[BT_DEPTH];
static atomic_flag table_lock = ATOMIC_FLAG_INIT;
static __thread int in_hook; /* static TLS: no allocation */

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire))
        ;
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&table_lock, memory_order_release);
}

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)(x & (TABLE_SIZE - 1));
}

static void table_insert(void *p, size_t size, uintptr_t site, long seq, void **bt)
{
    lock();
    if (!table)
        table = own_map(sizeof(struct slot) * TABLE_SIZE);
    size_t i = hash_ptr(p);
    for (size_t n = 0; n < TABLE_SIZE; n++, i = (i + 1) & (TABLE_SIZE - 1)) {
        if (table[i].ptr == NULL || table[i].ptr == TOMBSTONE) {
            table[i] = (struct slot){p, size, site, seq};
            if (stacks && bt && seq)
                memcpy(&stacks[i * BT_DEPTH], bt, sizeof(void *) * BT_DEPTH);
            break;
        }
    }
    unlock();
}

static void table_remove(void *p)
{
    if (!p)
        return;
    lock();
    size_t i = hash_ptr(p);
    for (size_t n = 0; table && n < TABLE_SIZE; n++, i = (i + 1) & (TABLE_SIZE - 1)) {
        if (table[i].ptr == NULL)
            break;
        if (table[i].ptr == p) {
            table[i].ptr = TOMBSTONE;
            break;
        }
    }
    unlock();
}

/* ------------------------------------------------------- the interposers */

static bool in_driver(const void *a)
{
    return (const char *)a >= __executable_start && (const char *)a < etext;
}

/* Before each allocation: count it (when armed) and say whether it must
 * fail. Fills the record's site, seq and (with -t) stack. */
static bool account(void *caller, uintptr_t *site, long *seq, void **bt)
{
    *site = (uintptr_t)caller;
    *seq = 0;
    if (!atomic_load_explicit(&armed, memory_order_relaxed) || in_hook)
        return false;
    long n = atomic_fetch_add(&counter, 1) + 1;
    *seq = n;
    if (tracing) {
        in_hook = 1;
        void *frames[BT_DEPTH + 4] = {0};
        int got = backtrace(frames, BT_DEPTH + 4);
        in_hook = 0;
        /* The stack starts at the interposer's caller (backtrace() gives
         * return addresses, as __builtin_return_address does) and stops at
         * this driver's own frames. */
        int first = 0;
        while (first < got && frames[first] != caller)
            first++;
        if (first == got)
            first = 2; /* account() < interposer < caller */
        for (int f = 0; f < BT_DEPTH; f++) {
            void *a = f + first < got ? frames[f + first] : NULL;
            bt[f] = (f > 0 && in_driver(a)) ? NULL : a;
            if (!bt[f]) {
                while (++f < BT_DEPTH)
                    bt[f] = NULL;
            }
        }
    } else {
        memset(bt, 0, sizeof(void *) * BT_DEPTH); /* no stale stack words */
        bt[0] = caller;
    }
    if (site_log && n <= site_log_cap)
        memcpy(&site_log[(size_t)(n - 1) * BT_DEPTH], bt, sizeof(void *) * BT_DEPTH);
    bool fail = fail_at > 0 && (n == fail_at || (fail_from_k && n > fail_at));
    if (fail && !atomic_exchange(&failed, 1)) {
        fail_site = caller;
        memcpy(fail_bt, bt, sizeof(fail_bt));
    }
    return fail;
}

static void *track(void *p, size_t size, uintptr_t site, long seq, void **bt)
{
    if (p)
        table_insert(p, size, site, seq, bt);
    return p;
}

#define HOOK_ATTR __attribute__((noinline, used, visibility("default")))

static void *alloc_impl(size_t n, void *caller)
{
    uintptr_t site;
    long seq;
    void *bt[BT_DEPTH];
    if (account(caller, &site, &seq, bt)) {
        errno = ENOMEM;
        return NULL;
    }
    return track(__libc_malloc(n), n, site, seq, bt);
}

HOOK_ATTR void *malloc(size_t n)
{
    return alloc_impl(n, __builtin_return_address(0));
}

HOOK_ATTR void *calloc(size_t a, size_t b)
{
    uintptr_t site;
    long seq;
    void *bt[BT_DEPTH];
    if (account(__builtin_return_address(0), &site, &seq, bt)) {
        errno = ENOMEM;
        return NULL;
    }
    return track(__libc_calloc(a, b), a * b, site, seq, bt);
}

static void *realloc_impl(void *p, size_t n, void *caller)
{
    if (p && n == 0) { /* glibc: frees and returns NULL */
        table_remove(p);
        return __libc_realloc(p, 0);
    }
    uintptr_t site;
    long seq;
    void *bt[BT_DEPTH];
    if (account(caller, &site, &seq, bt)) {
        errno = ENOMEM;
        return NULL; /* p stays valid, as with a real failure */
    }
    void *q = __libc_realloc(p, n);
    if (q) {
        table_remove(p);
        track(q, n, site, seq, bt);
    }
    return q;
}

HOOK_ATTR void *realloc(void *p, size_t n)
{
    return realloc_impl(p, n, __builtin_return_address(0));
}

HOOK_ATTR void *reallocarray(void *p, size_t a, size_t b)
{
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc_impl(p, n, __builtin_return_address(0));
}

HOOK_ATTR void free(void *p)
{
    if (!p)
        return;
    table_remove(p);
    __libc_free(p);
}

HOOK_ATTR char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = alloc_impl(n, __builtin_return_address(0));
    if (d)
        memcpy(d, s, n);
    return d;
}

HOOK_ATTR char *strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *d = alloc_impl(n + 1, __builtin_return_address(0));
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void *aligned_impl(size_t align, size_t n, void *caller)
{
    uintptr_t site;
    long seq;
    void *bt[BT_DEPTH];
    if (account(caller, &site, &seq, bt)) {
        errno = ENOMEM;
        return NULL;
    }
    return track(__libc_memalign(align, n), n, site, seq, bt);
}

HOOK_ATTR int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = aligned_impl(align, n, __builtin_return_address(0));
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

HOOK_ATTR void *aligned_alloc(size_t align, size_t n)
{
    return aligned_impl(align, n, __builtin_return_address(0));
}

HOOK_ATTR void *memalign(size_t align, size_t n)
{
    return aligned_impl(align, n, __builtin_return_address(0));
}

HOOK_ATTR void *valloc(size_t n)
{
    return aligned_impl((size_t)sysconf(_SC_PAGESIZE), n, __builtin_return_address(0));
}

HOOK_ATTR void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return aligned_impl(page, (n + page - 1) & ~(page - 1), __builtin_return_address(0));
}

/* The module's poll loop sleeps `interval` seconds between CreateToken
 * calls; a login here must take milliseconds, not seconds. */
HOOK_ATTR int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
                              struct timespec *rem)
{
    (void)clk, (void)flags, (void)req, (void)rem;
    return 0;
}

HOOK_ATTR int nanosleep(const struct timespec *req, struct timespec *rem)
{
    (void)req, (void)rem;
    return 0;
}

/* The interruptible wait polls a signalfd; without one it sleeps in steps,
 * through the hooks above. */
HOOK_ATTR int signalfd(int fd, const sigset_t *mask, int flags)
{
    (void)fd, (void)mask, (void)flags;
    errno = ENOSYS;
    return -1;
}

static void describe(char *buf, size_t len, void *addr);

/* ------------------------------------------------------ the leak scan */

struct block {
    uintptr_t lo, hi; /* [lo, hi), at least one byte */
    uintptr_t next_chunk; /* glibc's header of the following chunk, or 0 */
    size_t slot;
};

/* glibc keeps pointers to chunk headers (the top chunk, free lists). The
 * header of the chunk after a block can lie inside the block's last bytes
 * (its prev_size field is the block's tail), so a word equal to it is malloc
 * bookkeeping, not a reference to the block. */
static uintptr_t next_chunk_header(uintptr_t p)
{
    size_t field = ((const size_t *)p)[-1];
    if (field & 2) /* IS_MMAPPED: no neighbour */
        return 0;
    return p - 2 * sizeof(size_t) + (field & ~(size_t)7);
}

static struct block *blocks; /* live blocks sorted by address */
static size_t n_blocks;
static uint8_t *marks;
static size_t *worklist;
static size_t n_work;

/* In-place heap sort: qsort may call malloc. */
static void sift(struct block *b, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && b[c + 1].lo > b[c].lo)
            c++;
        if (b[i].lo >= b[c].lo)
            return;
        struct block t = b[i];
        b[i] = b[c], b[c] = t;
        i = c;
    }
}

static void sort_blocks(struct block *b, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(b, i, n);
    for (size_t end = n; end-- > 1;) {
        struct block t = b[0];
        b[0] = b[end], b[end] = t;
        sift(b, 0, end);
    }
}

static void mark_word(uintptr_t w)
{
    if (!n_blocks || w < blocks[0].lo || w >= blocks[n_blocks - 1].hi)
        return;
    size_t lo = 0, hi = n_blocks; /* last block with .lo <= w */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (blocks[mid].lo <= w)
            lo = mid;
        else
            hi = mid;
    }
    if (w < blocks[lo].hi && !marks[lo] && w != blocks[lo].next_chunk) {
        marks[lo] = 1;
        worklist[n_work++] = lo;
    }
}

static void scan_range(uintptr_t lo, uintptr_t hi)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t a = lo; a + 8 <= hi; a += 8)
        mark_word(*(const uintptr_t *)a);
}

/* Is any live block inside [lo, hi)? (malloc's own mmaps are not roots.) */
static bool holds_blocks(uintptr_t lo, uintptr_t hi)
{
    size_t a = 0, b = n_blocks;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (blocks[mid].lo < lo)
            a = mid + 1;
        else
            b = mid;
    }
    return a < n_blocks && blocks[a].lo < hi;
}

static uintptr_t parse_hex(const char **p)
{
    uintptr_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v * 16 + (uintptr_t)d;
    }
}

/* The roots, from /proc/self/maps (read without stdio: no allocation). */
static void scan_roots(void)
{
    static char *buf;
    const size_t cap = 8u << 20;
    if (!buf)
        buf = own_map(cap);
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    ssize_t n;
    while (fd >= 0 && len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    if (fd >= 0)
        close(fd);
    buf[len] = '\0';
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    for (const char *line = buf; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *p = line;
        uintptr_t lo = parse_hex(&p);
        p++; /* '-' */
        uintptr_t hi = parse_hex(&p);
        p++; /* ' ' */
        bool rw = p[0] == 'r' && p[1] == 'w' && p[3] == 'p';
        const char *path = memchr(p, '/', (size_t)(end - p));
        const char *bracket = memchr(p, '[', (size_t)(end - p));
        bool is_heap = bracket && strncmp(bracket, "[heap]", 6) == 0;
        bool is_stack = bracket && strncmp(bracket, "[stack]", 7) == 0;
        bool special = bracket && !is_heap && !is_stack && strncmp(bracket, "[anon", 5) != 0;
        if (rw && !is_heap && !special && !is_own_map(lo, hi)) {
            if (is_stack) {
                if (here >= lo && here < hi)
                    scan_range(here, hi);
            } else if (path || !holds_blocks(lo, hi)) {
                scan_range(lo, hi);
            }
        }
        line = *end ? end + 1 : end;
    }
}

struct leak {
    size_t size;
    long seq;
    void *bt[BT_DEPTH];
};

/* Armed blocks still live, and those of them nothing reaches. */
static void find_lost(long *live_out, long *lost_out, struct leak *leaks, int *n_leaks)
{
    if (!blocks) {
        blocks = own_map(sizeof(*blocks) * TABLE_SIZE);
        marks = own_map(TABLE_SIZE);
        worklist = own_map(sizeof(*worklist) * TABLE_SIZE);
    }
    n_blocks = n_work = 0;
    lock();
    for (size_t i = 0; table && i < TABLE_SIZE; i++)
        if (table[i].ptr && table[i].ptr != TOMBSTONE)
            blocks[n_blocks++] = (struct block){(uintptr_t)table[i].ptr,
                                                (uintptr_t)table[i].ptr +
                                                    (table[i].size ? table[i].size : 1),
                                                next_chunk_header((uintptr_t)table[i].ptr), i};
    unlock();
    sort_blocks(blocks, n_blocks);
    memset(marks, 0, n_blocks);
    scan_roots();
    while (n_work) {
        struct block *b = &blocks[worklist[--n_work]];
        scan_range(b->lo, b->hi);
    }
    long live = 0, lost = 0;
    *n_leaks = 0;
    for (size_t i = 0; i < n_blocks; i++) {
        struct slot *s = &table[blocks[i].slot];
        if (!s->seq)
            continue;
        live++;
        if (marks[i])
            continue;
        lost++;
        if (*n_leaks < MAX_REPORTED) {
            struct leak *l = &leaks[(*n_leaks)++];
            l->size = s->size;
            l->seq = s->seq;
            if (stacks) {
                memcpy(l->bt, &stacks[blocks[i].slot * BT_DEPTH], sizeof(l->bt));
            } else {
                memset(l->bt, 0, sizeof(l->bt));
                l->bt[0] = (void *)s->site;
            }
        }
    }
    *live_out = live;
    *lost_out = lost;
}

/* -------------------------------------------------------------- the login */

static bool selftest_leak; /* -X: the conversation leaks a two-block chain */

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    (void)data;
    if (selftest_leak) {
        /* A lost head (definitely lost) pointing to a lost tail
         * (indirectly lost): the scan must report both. */
        void **head = malloc(24), *tail = malloc(40);
        if (head) {
            head[0] = tail;
            __asm__ volatile("" : : "r"(head) : "memory");
        }
        selftest_leak = false;
    }
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON || msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
            r[i].resp = strdup("");
            if (!r[i].resp) {
                for (int j = 0; j < i; j++)
                    free(r[j].resp);
                free(r);
                return PAM_BUF_ERR;
            }
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

/* What a child sends back. */
struct report {
    int rc;
    long allocs;
    int failed;
    void *fail_site;
    void *fail_bt[BT_DEPTH];
    long live;
    long lost;
    int n_leaks;
    struct leak leaks[MAX_REPORTED];
};

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(4);
        p += n, len -= (size_t)n;
    }
}

/* -b: the baseline's call site (with -t, its stack) of every allocation,
 * symbolized while the module and its libraries are still loaded (pam_end
 * unloads them). One line per allocation: INDEX FRAME < FRAME < ... */
static void write_sites(const char *path, long allocs)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    /* dladdr is slow and the same frames recur: remember descriptions. */
    enum { CACHE_SLOTS = 1 << 16, DESC = 120 };
    struct cached {
        void *addr;
        char desc[DESC];
    } *cache = own_map(sizeof(*cache) * CACHE_SLOTS);
    for (long i = 0; i < allocs && i < site_log_cap; i++) {
        fprintf(f, "%ld", i + 1);
        void **bt = &site_log[(size_t)i * BT_DEPTH];
        for (int j = 0; j < BT_DEPTH && bt[j]; j++) {
            struct cached *c = &cache[hash_ptr(bt[j]) & (CACHE_SLOTS - 1)];
            if (c->addr != bt[j]) {
                c->addr = bt[j];
                describe(c->desc, sizeof(c->desc), bt[j]);
            }
            fprintf(f, "%s%s", j ? " < " : " ", c->desc);
        }
        fputc('\n', f);
    }
    fclose(f);
}

/* A crash in the child: print the stack (no allocation) and die of it. */
static void on_fatal(int sig)
{
    static const char head[] = "allocfail: fatal signal in the login; stack:\n";
    static const char fhead[] = "allocfail: the allocation that failed was made at:\n";
    void *frames[64];
    write(STDERR_FILENO, head, sizeof(head) - 1);
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    if (atomic_load(&failed)) {
        int m = 0;
        while (m < BT_DEPTH && fail_bt[m])
            m++;
        write(STDERR_FILENO, fhead, sizeof(fhead) - 1);
        backtrace_symbols_fd(fail_bt, m, STDERR_FILENO);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static bool scan_leaks = true; /* -N turns it off */

/* Zero the dead stack below the caller's frame, where the login's deep call
 * chains left stale pointers that would make lost blocks look reachable. */
static __attribute__((noinline)) void wipe_stack(void)
{
    char buf[256 * 1024];
    memset(buf, 0, sizeof(buf));
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* The child: one login with allocation k failing (k = 0: none). */
static void child(pam_handle_t *pamh, long k, const char *cache_dir, int out_fd,
                  const char *sites_out)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        signal(fatal[i], on_fatal);
    if (tracing)
        stacks = own_map(sizeof(void *) * BT_DEPTH * TABLE_SIZE);
    if (sites_out) {
        site_log_cap = 1024 * 1024;
        site_log = own_map(sizeof(void *) * BT_DEPTH * (size_t)site_log_cap);
    }
    if (cache_dir)
        empty_dir(cache_dir);

    fail_at = k;
    atomic_store(&counter, 0);
    atomic_store(&armed, 1);
    int rc = pam_authenticate(pamh, 0);
    atomic_store(&armed, 0);
    long allocs = atomic_load(&counter);
    if (sites_out)
        write_sites(sites_out, allocs);
    pam_end(pamh, rc);

    struct report *r = own_map(sizeof(*r));
    r->rc = rc;
    r->allocs = allocs;
    r->failed = atomic_load(&failed);
    r->fail_site = fail_site;
    if (tracing)
        memcpy(r->fail_bt, fail_bt, sizeof(fail_bt));
    if (scan_leaks) {
        wipe_stack();
        find_lost(&r->live, &r->lost, r->leaks, &r->n_leaks);
    }
    write_all(out_fd, r, sizeof(*r));
    close(out_fd);
    exit(0); /* atexit handlers (OpenSSL's cleanup) run too, as in sshd */
}

static void describe(char *buf, size_t len, void *addr)
{
    Dl_info info;
    if (addr && dladdr(addr, &info) && info.dli_fname) {
        const char *obj = strrchr(info.dli_fname, '/');
        obj = obj ? obj + 1 : info.dli_fname;
        snprintf(buf, len, "%s+0x%lx(%s)", obj,
                 (unsigned long)((uintptr_t)addr - (uintptr_t)info.dli_fbase),
                 info.dli_sname ? info.dli_sname : "-");
    } else {
        snprintf(buf, len, "%p", addr);
    }
}

static void print_stack(void *const *bt)
{
    for (int f = 0; f < BT_DEPTH && bt[f]; f++) {
        char d[256];
        describe(d, sizeof(d), bt[f]);
        printf("    #%d %s\n", f, d);
    }
}

static long file_size(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n, len -= (size_t)n;
    }
    return true;
}

struct options {
    const char *service, *confdir, *user, *cache_dir, *standin_log, *sites_out;
    double timeout;
};

/* Run one child for k; print its lines. Returns true when the login ran to
 * its end without reaching allocation k (k is past the login). */
static bool run_k(pam_handle_t *pamh, const struct options *o, long k)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    long log0 = file_size(o->standin_log);
    double t0 = now_ms();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        child(pamh, k, o->cache_dir, fds[1], k == 0 ? o->sites_out : NULL);
    }
    close(fds[1]);
    static struct report *r;
    if (!r)
        r = own_map(sizeof(*r));
    memset(r, 0, sizeof(*r));
    bool got = false, timed_out = false;
    struct pollfd pfd = {fds[0], POLLIN, 0};
    if (poll(&pfd, 1, (int)(o->timeout * 1000)) > 0)
        got = read_full(fds[0], r, sizeof(*r));
    else
        timed_out = true;
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    /* A child that reported gets a few seconds for its exit handlers. */
    for (int i = 0;; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        if (i == 1000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            timed_out = true;
            break;
        }
        poll(NULL, 0, 10); /* nanosleep is interposed to return at once */
    }
    close(fds[0]);
    char exit_desc[32];
    if (timed_out)
        snprintf(exit_desc, sizeof(exit_desc), "timeout");
    else if (WIFSIGNALED(status))
        snprintf(exit_desc, sizeof(exit_desc), "signal:%d", WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        snprintf(exit_desc, sizeof(exit_desc), "status:%d", WEXITSTATUS(status));
    else
        snprintf(exit_desc, sizeof(exit_desc), "0");
    char site[256];
    describe(site, sizeof(site), r->failed ? r->fail_site : NULL);
    printf("k=%ld rc=%s allocs=%ld failed=%d site=%s live=%ld lost=%ld log=%ld-%ld exit=%s "
           "ms=%.0f\n",
           k, got ? pam_code_name(r->rc) : "none", r->allocs, r->failed, r->failed ? site : "-",
           r->live, r->lost, log0, file_size(o->standin_log), exit_desc, now_ms() - t0);
    if (got && r->failed && r->fail_bt[0]) {
        printf("  failed-allocation k=%ld\n", k);
        print_stack(r->fail_bt);
    }
    for (int i = 0; got && i < r->n_leaks; i++) {
        printf("  leak k=%ld size=%zu seq=%ld\n", k, r->leaks[i].size, r->leaks[i].seq);
        print_stack(r->leaks[i].bt);
    }
    fflush(stdout);
    return got && k > 0 && !r->failed && r->allocs < k;
}

static void usage(void)
{
    fprintf(stderr, "usage: allocfail -s SERVICE -d CONFDIR -u USER [-c CACHEDIR] [-L LOG] "
                    "[-b SITES_OUT] [-k K,...] [-r FROM:TO[:STEP]] [-K FILE] [-t] [-P] [-N] "
                    "[-X] [-T SECONDS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct options o = {0};
    o.timeout = 60;
    const char *klist = NULL, *range = NULL, *kfile = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "s:d:u:c:L:b:k:r:K:tPNXT:")) != -1) {
        switch (opt) {
        case 's': o.service = optarg; break;
        case 'd': o.confdir = optarg; break;
        case 'u': o.user = optarg; break;
        case 'c': o.cache_dir = optarg; break;
        case 'L': o.standin_log = optarg; break;
        case 'b': o.sites_out = optarg; break;
        case 'k': klist = optarg; break;
        case 'r': range = optarg; break;
        case 'K': kfile = optarg; break;
        case 't': tracing = true; break;
        case 'P': fail_from_k = true; break;
        case 'N': scan_leaks = false; break;
        case 'X': selftest_leak = true; break;
        case 'T': o.timeout = atof(optarg); break;
        default: usage();
        }
    }
    if (!o.service || !o.confdir || !o.user)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    { /* load libgcc_s now, not inside an allocation hook or a crash */
        void *frames[4];
        backtrace(frames, 4);
    }

    /* The k's, read in full before any fork: a child's exit() would rewind
     * the offset of a FILE it shares with the parent. */
    long n_ks = 0, cap = 1024;
    long *ks = malloc(sizeof(long) * (size_t)cap);
    if (!ks)
        usage();
    if (klist) {
        for (const char *p = klist; *p;) {
            char *end;
            long k = strtol(p, &end, 10);
            if (end == p)
                usage();
            if (n_ks == cap && !(ks = realloc(ks, sizeof(long) * (size_t)(cap *= 2))))
                usage();
            ks[n_ks++] = k;
            p = end;
            while (*p == ',')
                p++;
        }
    }
    if (kfile) {
        FILE *f = strcmp(kfile, "-") ? fopen(kfile, "r") : stdin;
        long k;
        if (!f)
            usage();
        while (fscanf(f, "%ld", &k) == 1) {
            if (n_ks == cap && !(ks = realloc(ks, sizeof(long) * (size_t)(cap *= 2))))
                usage();
            ks[n_ks++] = k;
        }
        if (f != stdin)
            fclose(f);
    }
    long from = 0, to = 0, step = 1;
    if (range && (sscanf(range, "%ld:%ld:%ld", &from, &to, &step) < 2 || from < 1 || step < 1))
        usage();

    struct pam_conv pc = {conv, NULL};
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(o.service, o.user, &pc, o.confdir, &pamh);
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "pam_start_confdir: %s\n", pam_code_name(rc));
        return 2;
    }
    pam_set_item(pamh, PAM_RHOST, "203.0.113.7");

    run_k(pamh, &o, 0); /* the baseline */
    for (long i = 0; i < n_ks; i++)
        if (ks[i] > 0 && run_k(pamh, &o, ks[i]) && kfile)
            break; /* a sorted list went past the end of the login */
    if (range)
        for (long k = from; to <= 0 || k <= to; k += step)
            if (run_k(pamh, &o, k))
                break; /* past the end of the login */
    pam_end(pamh, PAM_SUCCESS);
    free(ks);
    return 0;
}
