/* Parses hvemu's options from the table in options.def (portable: no getopt_long). */
#include "frontend/cli.h"

#include "hv/hyperv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_id {
#define X(name, short, arg, help) OPT_##name,
#include "frontend/options.def"
#undef X
};

struct opt_desc {
    const char *name;
    char short_name;
    const char *arg;
    const char *help;
};

static const struct opt_desc opts[] = {
#define X(name, short, arg, help) {#name, short, arg, help},
#include "frontend/options.def"
#undef X
};

void cli_usage(void *file)
{
    FILE *f = file;
    fprintf(f, "usage: hvemu [options] [IMAGE]\n"
               "Runs IMAGE (or the bundled default guest) on a software x86-64 PC with a\n"
               "Hyper-V compatible hypervisor.\n\noptions:\n");
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
        char left[64], name[32];
        snprintf(name, sizeof(name), "%s", opts[i].name);
        for (char *p = name; *p; p++)
            if (*p == '_')
                *p = '-';
        if (opts[i].short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].short_name, name,
                     opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", name, opts[i].arg ? " " : "",
                     opts[i].arg ? opts[i].arg : "");
        fprintf(f, "  %-26s %s\n", left, opts[i].help);
    }
    fprintf(f, "\nHyper-V enlightenments for --hv (NAME turns one on, no-NAME off):\n");
    for (unsigned i = 0; i < hv_config_flag_count(); i++)
        fprintf(f, "  %-26s %s\n", hv_config_flag_name(i), hv_config_flag_doc(i));
    fprintf(f, "\nexit status: 0 guest powered off; (v<<1)|1 guest wrote v to the debug-exit port\n"
               "0xf4; 2 bad option or input; 3 host error; 4 triple fault; 5 instruction limit;\n"
               "6 guest crash report; 7 guest reset; 8 every VP halted with nothing to wake it.\n");
}

int cli_parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 20; /* a bare number means MiB, as QEMU's -m does */
    if (*end) {
        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 'b': case 'B': shift = 0; break;
        default: return -1;
        }
        end++;
        if (*end == 'i' || *end == 'B')
            end += (*end == 'i') + (end[*end == 'i'] == 'B');
        if (*end)
            return -1;
    }
    if (v == 0 || v > (1ull << 40) >> shift)
        return -1;
    *out = v << shift;
    return 0;
}

static const struct { const char *name; uint32_t bits; } trace_names[] = {
    {"exit", TRACE_EXIT}, {"io", TRACE_IO}, {"msr", TRACE_MSR}, {"hv", TRACE_HV},
    {"int", TRACE_INT},   {"cpu", TRACE_CPU}, {"all", ~0u},
};

int cli_parse_trace(const char *s, uint32_t *out)
{
    *out = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        bool found = false;
        for (size_t i = 0; i < ARRAY_SIZE(trace_names); i++) {
            if (strlen(trace_names[i].name) == n && !strncmp(s, trace_names[i].name, n)) {
                *out |= trace_names[i].bits;
                found = true;
            }
        }
        if (!found)
            return -1;
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int apply(struct cli *c, enum opt_id id, const char *arg, char *err, size_t errlen)
{
    uint64_t v;
    switch (id) {
    case OPT_kernel: c->kernel = arg; return 0;
    case OPT_bios: c->bios = arg; return 0;
    case OPT_initrd: c->initrd = arg; return 0;
    case OPT_append: c->append = arg; return 0;
    case OPT_mem:
        if (cli_parse_size(arg, &v) || (v & (PAGE_SIZE - 1)) || v < (2ull << 20)) {
            snprintf(err, errlen, "bad memory size '%s' (expected e.g. 256M or 2G, at least 2M)", arg);
            return -1;
        }
        c->mc.ram_size = v;
        return 0;
    case OPT_smp:
        if (parse_uint(arg, MACHINE_MAX_VCPUS, &v) || v == 0) {
            snprintf(err, errlen, "bad --smp '%s' (expected 1 to %d)", arg, MACHINE_MAX_VCPUS);
            return -1;
        }
        c->mc.smp = (unsigned)v;
        return 0;
    case OPT_serial:
        if (!strcmp(arg, "stdio")) {
            c->mc.serial = SERIAL_STDIO;
        } else if (!strcmp(arg, "none")) {
            c->mc.serial = SERIAL_NONE;
        } else if (!strncmp(arg, "file:", 5) && arg[5]) {
            c->mc.serial = SERIAL_FILE;
            c->mc.serial_path = arg + 5;
        } else {
            snprintf(err, errlen, "bad --serial '%s' (expected stdio, none or file:PATH)", arg);
            return -1;
        }
        return 0;
    case OPT_display:
        if (!strcmp(arg, "none")) {
            c->display = DISPLAY_NONE;
        } else if (!strcmp(arg, "sdl")) {
            c->display = DISPLAY_SDL;
        } else {
            snprintf(err, errlen, "bad --display '%s' (expected none or sdl)", arg);
            return -1;
        }
        return 0;
    case OPT_trace:
        if (cli_parse_trace(arg, &c->mc.trace)) {
            snprintf(err, errlen, "bad --trace '%s' (expected a list of exit, io, msr, hv, int, cpu, all)", arg);
            return -1;
        }
        return 0;
    case OPT_max_insns:
        if (parse_uint(arg, UINT64_MAX, &v) || v == 0) {
            snprintf(err, errlen, "bad --max-insns '%s' (expected a positive count)", arg);
            return -1;
        }
        c->mc.max_insns = v;
        return 0;
    case OPT_hv: {
        struct hv_config hc;
        hv_config_default(&hc);
        char why[200];
        if (hv_config_parse(&hc, arg, why, sizeof(why))) {
            snprintf(err, errlen, "bad --hv '%s': %s", arg, why);
            return -1;
        }
        c->mc.hv_spec = arg;
        return 0;
    }
    case OPT_rtc:
        if (!strcmp(arg, "fixed")) {
            c->mc.rtc_host = false;
        } else if (!strcmp(arg, "host")) {
            c->mc.rtc_host = true;
        } else {
            snprintf(err, errlen, "bad --rtc '%s' (expected fixed or host)", arg);
            return -1;
        }
        return 0;
    case OPT_stats: c->stats = true; return 0;
    case OPT_version: c->version = true; return 0;
    case OPT_help: c->help = true; return 0;
    }
    return -1;
}

static int find_long(const char *name, size_t n)
{
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
        const char *o = opts[i].name;
        if (strlen(o) != n)
            continue;
        size_t k = 0;
        while (k < n && (o[k] == name[k] || (o[k] == '_' && name[k] == '-')))
            k++;
        if (k == n)
            return (int)i;
    }
    return -1;
}

int cli_parse(struct cli *c, int argc, char **argv, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->mc.ram_size = 256ull << 20;
    c->mc.smp = 1;
    const char *image = NULL;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int id = -1;
        const char *arg = NULL;
        if (only_positional || a[0] != '-' || !a[1]) {
            if (image) {
                snprintf(err, errlen, "more than one image given ('%s' and '%s')", image, a);
                return -1;
            }
            image = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_positional = true;
            continue;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            id = find_long(a + 2, n);
            if (eq)
                arg = eq + 1;
        } else if (!a[2]) {
            for (size_t k = 0; k < ARRAY_SIZE(opts); k++)
                if (opts[k].short_name == a[1])
                    id = (int)k;
        }
        if (id < 0) {
            snprintf(err, errlen, "unknown option '%s' (see hvemu --help)", a);
            return -1;
        }
        if (opts[id].arg && !arg) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "option '%s' needs an argument %s", a, opts[id].arg);
                return -1;
            }
            arg = argv[++i];
        } else if (!opts[id].arg && arg) {
            snprintf(err, errlen, "option '--%s' takes no argument", opts[id].name);
            return -1;
        }
        if (apply(c, (enum opt_id)id, arg, err, errlen))
            return -1;
    }
    if (image && c->kernel) {
        snprintf(err, errlen, "both --kernel '%s' and image '%s' given", c->kernel, image);
        return -1;
    }
    if (image)
        c->kernel = image;
    if (c->bios && c->kernel) {
        snprintf(err, errlen, "--bios '%s' and kernel '%s' given: the firmware boots by itself",
                 c->bios, c->kernel);
        return -1;
    }
    if ((c->initrd || c->append) && !c->kernel) {
        snprintf(err, errlen, "--initrd and --append need --kernel");
        return -1;
    }
    return 0;
}
