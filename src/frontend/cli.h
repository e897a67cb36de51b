/* Command-line parsing for the hvemu command. */
#ifndef HVEMU_CLI_H
#define HVEMU_CLI_H

#include "hv/machine.h"

enum display_mode { DISPLAY_NONE, DISPLAY_SDL };

struct cli {
    struct machine_config mc;
    const char *kernel;
    const char *bios; /* --bios: firmware instead of a kernel */
    const char *initrd;
    const char *append;
    enum display_mode display;
    bool stats;
    bool version;
    bool help;
};

/* Returns 0, or -1 with one line in err. */
int cli_parse(struct cli *c, int argc, char **argv, char *err, size_t errlen);
void cli_usage(void *file);
int cli_parse_size(const char *s, uint64_t *out);
int cli_parse_trace(const char *s, uint32_t *out);

#endif
