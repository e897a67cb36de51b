/* struct hv_config: defaults and the --hv option parser, driven by HV_CONFIG_FLAGS. */
#include "hv/hyperv/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct flag_desc {
    const char *name;
    size_t offset;
    bool def;
    const char *doc;
};

static const struct flag_desc flags[] = {
#define HV_FLAG_ROW(name, field, def, doc) {name, offsetof(struct hv_config, field), def, doc},
    HV_CONFIG_FLAGS(HV_FLAG_ROW)
#undef HV_FLAG_ROW
};

static bool *flag_ptr(struct hv_config *cfg, unsigned i)
{
    return (bool *)((char *)cfg + flags[i].offset);
}

void hv_config_default(struct hv_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->enabled = true;
    for (unsigned i = 0; i < ARRAY_SIZE(flags); i++)
        *flag_ptr(cfg, i) = flags[i].def;
    /* Linux 6.1 never issues HvNotifyLongSpinWait; "never notify" keeps call 0x08 unadvertised. */
    cfg->spin_retries = 0xFFFFFFFFu;
    cfg->phys_bits = 40;
    cfg->apic_hz = HV_APIC_FREQUENCY_HZ;
    memcpy(cfg->vendor, "Microsoft Hv", 13);
    /* The version KVM reports (Windows Server 2016, build 14393 = 0x3839). */
    cfg->build = 0x3839;
    cfg->version = 0x000A0000;
}

unsigned hv_config_flag_count(void)
{
    return ARRAY_SIZE(flags);
}

const char *hv_config_flag_name(unsigned i)
{
    return i < ARRAY_SIZE(flags) ? flags[i].name : NULL;
}

const char *hv_config_flag_doc(unsigned i)
{
    return i < ARRAY_SIZE(flags) ? flags[i].doc : NULL;
}

static int apply_word(struct hv_config *cfg, const char *w, size_t n)
{
#define IS(s) (n == strlen(s) && strncmp(w, s, n) == 0)
    if (IS("on")) {
        cfg->enabled = true;
        return 0;
    }
    if (IS("off")) {
        cfg->enabled = false;
        return 0;
    }
    if (IS("all") || IS("none")) {
        for (unsigned i = 0; i < ARRAY_SIZE(flags); i++)
            *flag_ptr(cfg, i) = IS("all");
        return 0;
    }
#undef IS
    if (n > 10 && strncmp(w, "spinlocks=", 10) == 0) {
        char buf[24];
        if (n - 10 >= sizeof(buf))
            return -1;
        memcpy(buf, w + 10, n - 10);
        buf[n - 10] = 0;
        char *end;
        unsigned long long v = strtoull(buf, &end, 0);
        if (*end || v > 0xFFFFFFFFull)
            return -1;
        cfg->spin_retries = (uint32_t)v;
        return 0;
    }
    bool value = true;
    if (*w == '+') {
        w++;
        n--;
    } else if (*w == '-') {
        value = false;
        w++;
        n--;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(flags); i++)
        if (strlen(flags[i].name) == n && strncmp(flags[i].name, w, n) == 0) {
            *flag_ptr(cfg, i) = value;
            return 0;
        }
    /* "no-<flag>" clears a flag. */
    if (value && n > 3 && strncmp(w, "no-", 3) == 0) {
        for (unsigned i = 0; i < ARRAY_SIZE(flags); i++)
            if (strlen(flags[i].name) == n - 3 && strncmp(flags[i].name, w + 3, n - 3) == 0) {
                *flag_ptr(cfg, i) = false;
                return 0;
            }
    }
    return -1;
}

int hv_config_parse(struct hv_config *cfg, const char *spec, char *err, size_t errlen)
{
    const char *s = spec;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || apply_word(cfg, s, n)) {
            if (err && errlen)
                snprintf(err, errlen, "unknown --hv setting '%.*s'", (int)n, s);
            return -1;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}
