/* Integration-test harness (POSIX: fork/exec, pipes, poll): run hvemu, capture, check lines. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int hv_run(struct run *r, unsigned timeout_s, const char *const *args)
{
    memset(r, 0, sizeof(*r));
    struct buf out = {0}, err = {0};
    buf_add(&out, "", 0);
    buf_add(&err, "", 0);
    r->status = -1;
    int po[2], pe[2];
    if (pipe(po) || pipe(pe))
        goto done;
    size_t n = 0;
    while (args[n])
        n++;
    const char **argv = calloc(n + 2, sizeof(*argv));
    argv[0] = HVEMU_BIN;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = args[i];
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        execv(HVEMU_BIN, (char *const *)argv);
        fprintf(stderr, "harness: cannot run %s: %s\n", HVEMU_BIN, strerror(errno));
        _exit(127);
    }
    free(argv);
    close(po[1]);
    close(pe[1]);
    if (pid < 0) {
        close(po[0]);
        close(pe[0]);
        goto done;
    }
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    double deadline = now_s() + timeout_s;
    int open_fds = 2;
    while (open_fds) {
        double left = deadline - now_s();
        if (left <= 0) {
            r->timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        int rc = poll(fds, 2, (int)(left * 1000) + 1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char tmp[8192];
            ssize_t got = read(fds[i].fd, tmp, sizeof(tmp));
            if (got > 0) {
                buf_add(i ? &err : &out, tmp, (size_t)got);
            } else if (got == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : -1;
done:
    r->out = out.p;
    r->out_len = out.len;
    r->err = err.p;
    r->err_len = err.len;
    return r->status;
}

void hv_run_free(struct run *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof(*r));
}

void hv_run_dump(const struct run *r, const char *what)
{
    fprintf(stderr, "---- %s: status %d%s\n---- stdout (%zu bytes):\n%s\n---- stderr (%zu bytes):\n%s\n----\n",
            what, r->status, r->timed_out ? " (timed out)" : "", r->out_len, r->out ? r->out : "",
            r->err_len, r->err ? r->err : "");
}

void hv_rom_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", HVEMU_ROMS_DIR, name);
}

char *hv_temp_file(const void *data, size_t len)
{
    char *path = malloc(64);
    if (!path)
        abort();
    snprintf(path, 64, "/tmp/hvemu-test-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    if (len && write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
    return path;
}

/* Calls fn on each line of text (without its newline); stops when fn returns true. */
static bool each_line(const char *text, bool (*fn)(const char *line, size_t len, void *arg), void *arg)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t trimmed = len && p[len - 1] == '\r' ? len - 1 : len;
        if (fn(p, trimmed, arg))
            return true;
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

static bool line_equals(const char *line, size_t len, void *arg)
{
    return strlen(arg) == len && memcmp(line, arg, len) == 0;
}

static bool line_starts(const char *line, size_t len, void *arg)
{
    size_t n = strlen(arg);
    return len >= n && memcmp(line, arg, n) == 0;
}

bool hv_has_line(const char *text, const char *line)
{
    return each_line(text, line_equals, (void *)line);
}

bool hv_has_line_prefix(const char *text, const char *prefix)
{
    return each_line(text, line_starts, (void *)prefix);
}

struct counter {
    const char *prefix;
    unsigned n;
};

static bool count_one(const char *line, size_t len, void *arg)
{
    struct counter *c = arg;
    if (!c->prefix || line_starts(line, len, (void *)c->prefix))
        c->n++;
    return false;
}

unsigned hv_count_prefix(const char *text, const char *prefix)
{
    struct counter c = {prefix, 0};
    each_line(text, count_one, &c);
    return c.n;
}

unsigned hv_count_lines(const char *text)
{
    return hv_count_prefix(text, NULL);
}

struct summary {
    unsigned seen, passed, failed;
    bool bad;
};

static bool parse_summary(const char *line, size_t len, void *arg)
{
    struct summary *s = arg;
    if (!line_starts(line, len, "SUMMARY:"))
        return false;
    char tmp[128];
    if (len >= sizeof(tmp)) {
        s->bad = true;
        return false;
    }
    memcpy(tmp, line, len);
    tmp[len] = '\0';
    int end = 0;
    s->seen++;
    if (sscanf(tmp, "SUMMARY: %u passed, %u failed%n", &s->passed, &s->failed, &end) != 2 ||
        (size_t)end != len)
        s->bad = true;
    return false;
}

bool hv_summary(const char *text, unsigned *passed, unsigned *failed)
{
    struct summary s = {0};
    each_line(text, parse_summary, &s);
    if (s.seen != 1 || s.bad)
        return false;
    *passed = s.passed;
    *failed = s.failed;
    return true;
}

void hv_expect_guest_passes(const char *rom_name, const char *const *args, unsigned min_passed,
                            enum hv_skip skip, unsigned timeout_s)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), rom_name);
    const char *argv[HV_GUEST_MAX_ARGS + 3];
    unsigned n = 0;
    for (; args && n < HV_GUEST_MAX_ARGS && args[n]; n++)
        argv[n] = args[n];
    argv[n++] = "--kernel";
    argv[n++] = rom;
    argv[n] = NULL;
    struct run r;
    hv_run(&r, timeout_s, argv);
    unsigned passed = 0, failed = 0;
    bool have = hv_summary(r.out, &passed, &failed);
    unsigned pass_lines = hv_count_prefix(r.out, "PASS: "), fail_lines = hv_count_prefix(r.out, "FAIL: ");
    bool fatal = hv_has_line_prefix(r.out, "FATAL: ");
    bool skipped = hv_has_line_prefix(r.out, "SKIP: ");
    bool skip_ok = skip == HV_SKIP_ANY || skipped == (skip == HV_SKIP_REQUIRED);
    bool ok = !r.timed_out && r.status == ST_TESTS_PASSED && have && failed == 0 && fail_lines == 0 &&
              !fatal && passed == pass_lines && passed >= min_passed && skip_ok;
    if (!ok)
        hv_run_dump(&r, rom_name);
    cr_expect(ok,
              "%s: status %d%s, summary %s (%u passed, %u failed), %u PASS lines, %u FAIL lines%s%s, "
              "want status %d and at least %u passed",
              rom_name, r.status, r.timed_out ? " (timed out)" : "", have ? "present" : "missing", passed,
              failed, pass_lines, fail_lines, fatal ? ", FATAL" : "", skip_ok ? "" : ", wrong SKIP lines",
              ST_TESTS_PASSED, min_passed);
    hv_run_free(&r);
}
