/* The hvemu command's bad-input matrix: each bad invocation prints exactly one "hvemu: ..." line
 * on stderr and exits with the documented status; --help and --version behave. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define TIMEOUT 60

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* ELF64 executable with one PT_LOAD at 1 MiB: 16 bytes of file, memsz bytes in memory. */
static size_t make_elf64(uint8_t *b, uint64_t memsz)
{
    memset(b, 0, 0x1010);
    memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
    put16(b + 16, 2);
    put16(b + 18, 62);
    put32(b + 20, 1);
    put64(b + 24, 0x100000);
    put64(b + 32, 64);
    put16(b + 52, 64);
    put16(b + 54, 56);
    put16(b + 56, 1);
    uint8_t *ph = b + 64;
    put32(ph, 1);
    put32(ph + 4, 5);
    put64(ph + 8, 0x1000);
    put64(ph + 16, 0x100000);
    put64(ph + 24, 0x100000);
    put64(ph + 32, 16);
    put64(ph + 40, memsz);
    memset(b + 0x1000, 0xF4, 16); /* hlt */
    return 0x1010;
}

/* The first bytes of a bzImage whose header promises far more than the file holds. */
static size_t make_truncated_bzimage(uint8_t *b)
{
    memset(b, 0, 0x1000);
    b[0x1F1] = 4;
    put32(b + 0x1F4, 0x10000); /* syssize: 1 MiB of protected-mode code */
    put16(b + 0x1FE, 0xAA55);
    b[0x200] = 0xEB;
    b[0x201] = 0x66;
    memcpy(b + 0x202, "HdrS", 4);
    put16(b + 0x206, 0x20F);
    b[0x211] = 1;
    return 0x1000;
}

enum file_kind { F_NONE, F_MISSING, F_DIR, F_UNREADABLE, F_CORRUPT_ELF, F_TRUNC_BZ, F_BIG_BSS, F_BIG_FILE, F_JUNK };

struct cli_case {
    const char *name;
    enum file_kind file;
    const char *args[6]; /* "@" is replaced by the file's path, "%NAME" by the guest image NAME */
    int status;
    const char *want; /* substring of the one stderr line ("@" = the file's path) */
};

static const struct cli_case cases[] = {
    {"missing file", F_MISSING, {"--kernel", "@"}, ST_USAGE, "@"},
    {"missing file, positional", F_MISSING, {"@"}, ST_USAGE, "@"},
    {"directory as image", F_DIR, {"--kernel", "@"}, ST_USAGE, "@"},
    {"unreadable file", F_UNREADABLE, {"--kernel", "@"}, ST_USAGE, "@"},
    {"missing initrd", F_MISSING, {"--kernel", "%default.elf", "--initrd", "@"}, ST_USAGE, "@"},
    {"unknown option", F_NONE, {"--bogus-option"}, ST_USAGE, "--bogus-option"},
    {"unknown short option", F_NONE, {"-Z"}, ST_USAGE, "-Z"},
    {"option missing its argument", F_NONE, {"--mem"}, ST_USAGE, "mem"},
    {"bad --mem suffix", F_NONE, {"--mem", "12Q"}, ST_USAGE, "12Q"},
    {"bad --mem zero", F_NONE, {"--mem", "0"}, ST_USAGE, "memory size"},
    {"bad --mem negative", F_NONE, {"--mem", "-5M"}, ST_USAGE, "memory size"},
    {"bad --mem too small", F_NONE, {"--mem", "1M"}, ST_USAGE, "memory size"},
    {"bad --mem empty", F_NONE, {"--mem", ""}, ST_USAGE, "memory size"},
    {"bad --smp zero", F_NONE, {"--smp", "0"}, ST_USAGE, "smp"},
    {"bad --smp word", F_NONE, {"--smp", "two"}, ST_USAGE, "smp"},
    {"bad --smp too many", F_NONE, {"--smp", "100000"}, ST_USAGE, "smp"},
    {"corrupt ELF", F_CORRUPT_ELF, {"--kernel", "@"}, ST_USAGE, "corrupt ELF"},
    {"truncated bzImage", F_TRUNC_BZ, {"--kernel", "@"}, ST_USAGE, "truncated bzImage"},
    {"not an image", F_JUNK, {"--kernel", "@"}, ST_USAGE, "not a Multiboot, ELF or Linux bzImage"},
    {"segment beyond RAM", F_BIG_BSS, {"--mem", "16M", "--kernel", "@"}, ST_USAGE, "outside guest RAM"},
    {"file bigger than RAM", F_BIG_FILE, {"--mem", "2M", "--kernel", "@"}, ST_USAGE, "@"},
};

static char *make_file(enum file_kind k)
{
    static uint8_t buf[0x1100];
    switch (k) {
    case F_NONE:
        return NULL;
    case F_MISSING: {
        char *p = hv_temp_file("", 0);
        unlink(p);
        return p;
    }
    case F_DIR: {
        char *p = hv_temp_file("", 0);
        unlink(p);
        cr_assert_eq(mkdir(p, 0700), 0);
        return p;
    }
    case F_UNREADABLE: {
        char *p = hv_temp_file("data", 4);
        chmod(p, 0);
        if (geteuid() == 0) { /* root reads anything: a directory stands in */
            unlink(p);
            cr_assert_eq(mkdir(p, 0), 0);
        }
        return p;
    }
    case F_CORRUPT_ELF:
        make_elf64(buf, 16);
        put64(buf + 32, 0x100000); /* e_phoff far past the end of the file */
        return hv_temp_file(buf, 0x1010);
    case F_TRUNC_BZ:
        return hv_temp_file(buf, make_truncated_bzimage(buf));
    case F_BIG_BSS:
        return hv_temp_file(buf, make_elf64(buf, 64ull << 20));
    case F_BIG_FILE: {
        size_t n = 3u << 20;
        uint8_t *big = calloc(1, n);
        char *p = hv_temp_file(big, n);
        free(big);
        return p;
    }
    case F_JUNK:
        return hv_temp_file("this is not a kernel\n", 21);
    }
    return NULL;
}

Test(cli, bad_input_matrix)
{
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct cli_case *c = &cases[i];
        char *path = make_file(c->file);
        const char *args[8] = {0};
        char rom[1024];
        for (unsigned j = 0; j < 6 && c->args[j]; j++) {
            args[j] = strcmp(c->args[j], "@") ? c->args[j] : path;
            if (c->args[j][0] == '%') {
                hv_rom_path(rom, sizeof(rom), c->args[j] + 1);
                args[j] = rom;
            }
        }
        const char *want = strcmp(c->want, "@") ? c->want : path;
        struct run r;
        hv_run(&r, TIMEOUT, args);
        bool ok = r.status == c->status && !r.timed_out && hv_count_lines(r.err) == 1 &&
                  strncmp(r.err, "hvemu: ", 7) == 0 && strstr(r.err, want) != NULL;
        if (!ok)
            hv_run_dump(&r, c->name);
        cr_expect(ok, "case '%s': want status %d and one stderr line 'hvemu: ...%s...', got status %d: %s",
                  c->name, c->status, want, r.status, r.err);
        hv_run_free(&r);
        if (path) {
            chmod(path, 0700);
            if (remove(path))
                rmdir(path);
            free(path);
        }
    }
}

Test(cli, help_lists_every_option)
{
    /* The option list is options.def: every X(name, ...) must appear as --name in --help. */
    char def[1024];
    snprintf(def, sizeof(def), "%s/src/frontend/options.def", HVEMU_SOURCE_DIR);
    FILE *f = fopen(def, "r");
    cr_assert_not_null(f, "cannot open %s", def);
    static const char *const forms[][2] = {{"--help", NULL}, {"-h", NULL}};
    for (unsigned k = 0; k < 2; k++) {
        struct run r;
        hv_run(&r, TIMEOUT, (const char *const[]){forms[k][0], NULL});
        cr_expect_eq(r.status, 0, "%s: status %d", forms[k][0], r.status);
        cr_expect_eq(r.err_len, 0, "%s wrote to stderr: %s", forms[k][0], r.err);
        cr_expect(hv_has_line_prefix(r.out, "usage: hvemu"), "%s: no usage line", forms[k][0]);
        rewind(f);
        char line[512];
        unsigned n = 0;
        while (fgets(line, sizeof(line), f)) {
            char name[64];
            if (sscanf(line, "X(%63[a-z0-9_],", name) != 1)
                continue;
            char opt[80];
            snprintf(opt, sizeof(opt), "--%s", name);
            for (char *p = opt + 2; *p; p++)
                if (*p == '_')
                    *p = '-';
            cr_expect(strstr(r.out, opt) != NULL, "%s does not mention %s", forms[k][0], opt);
            n++;
        }
        cr_expect_geq(n, 10, "options.def parsed: %u options", n);
        hv_run_free(&r);
    }
    fclose(f);
}

Test(cli, version_prints_one_line)
{
    static const char *const forms[] = {"--version", "-V"};
    for (unsigned k = 0; k < 2; k++) {
        struct run r;
        hv_run(&r, TIMEOUT, (const char *const[]){forms[k], NULL});
        cr_expect_eq(r.status, 0, "%s: status %d", forms[k], r.status);
        cr_expect_eq(hv_count_lines(r.out), 1, "%s: %s", forms[k], r.out);
        cr_expect(hv_has_line_prefix(r.out, "hvemu "), "%s: %s", forms[k], r.out);
        cr_expect_eq(r.err_len, 0);
        hv_run_free(&r);
    }
}
