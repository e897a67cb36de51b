/* The host side of COM1: output to stdout or a file, input from stdin without blocking. */
#ifndef HVEMU_CONSOLE_H
#define HVEMU_CONSOLE_H

#include "hv/machine.h"

struct console {
    void *out;      /* FILE *, or NULL for --serial none */
    bool close_out;
    bool read_stdin;
    bool stdin_eof;
};

/* Opens the output for the configured mode and fills cfg's serial callbacks. */
int console_open(struct console *c, struct machine_config *cfg, char *err, size_t errlen);
void console_close(struct console *c);

#endif
