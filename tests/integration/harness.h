/* Integration-test harness: runs the hvemu binary with arguments under a timeout, captures its
 * stdout, stderr and exit status, and checks the lines guests print (PASS/FAIL/SUMMARY). */
#ifndef HVEMU_TEST_HARNESS_H
#define HVEMU_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

/* hvemu exit statuses (the CLI's contract; src/hv/machine.h enum hvemu_status). */
#define ST_POWEROFF 0
#define ST_USAGE 2
#define ST_HOST_ERROR 3
#define ST_SHUTDOWN 4
#define ST_LIMIT 5
#define ST_CRASH 6
#define ST_DEBUG_EXIT(v) (((v) << 1) | 1)
/* Guest-library exits (roms/lib/guest.h): test_finish() with no failures / with failures. */
#define ST_TESTS_PASSED ST_DEBUG_EXIT(0x00)
#define ST_TESTS_FAILED ST_DEBUG_EXIT(0x20)

struct run {
    int status;      /* exit status; 128 + signal if killed by a signal; -1 if it could not run */
    bool timed_out;  /* killed after the timeout */
    char *out, *err; /* NUL-terminated captures (never NULL after hv_run) */
    size_t out_len, err_len;
};

/* Runs HVEMU_BIN with args (NULL-terminated, program name excluded); kills it after timeout_s. */
int hv_run(struct run *r, unsigned timeout_s, const char *const *args);
void hv_run_free(struct run *r);
/* Writes a human-readable account of r (command, status, output) for failure messages. */
void hv_run_dump(const struct run *r, const char *what);

/* Path of a guest image in HVEMU_ROMS_DIR. */
void hv_rom_path(char *buf, size_t n, const char *name);
/* A new temporary file holding data; returns its malloc'd path (caller unlinks and frees). */
char *hv_temp_file(const void *data, size_t len);

/* Line checks on captured text. */
bool hv_has_line(const char *text, const char *line);           /* a whole line equal to line */
bool hv_has_line_prefix(const char *text, const char *prefix);  /* some line starts with prefix */
unsigned hv_count_prefix(const char *text, const char *prefix); /* lines starting with prefix */
unsigned hv_count_lines(const char *text);
/* Parses "SUMMARY: N passed, M failed"; false if absent or malformed, or present twice. */
bool hv_summary(const char *text, unsigned *passed, unsigned *failed);

/* A test-kernel run that must pass whole: status 1 (every check passed), one SUMMARY with 0
 * failed, no FAIL or FATAL line, as many PASS lines as the summary counts, at least
 * min_passed of them (so checks silently dropped are caught), and a SKIP line exactly when
 * skip says so. args (NULL-terminated, may be NULL) come before --kernel ROM. */
enum hv_skip { HV_SKIP_ANY, HV_SKIP_NONE, HV_SKIP_REQUIRED };
#define HV_GUEST_MAX_ARGS 8
void hv_expect_guest_passes(const char *rom, const char *const *args, unsigned min_passed,
                            enum hv_skip skip, unsigned timeout_s);

#endif
