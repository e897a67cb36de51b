/* COM1's host side. Input is polled without blocking; on hosts without poll() the guest gets
 * no input (output still works). */
#include "frontend/console.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <poll.h>
#include <unistd.h>
#define HAVE_POLL 1
#endif

static void console_tx(void *opaque, uint8_t byte)
{
    struct console *c = opaque;
    if (!c->out)
        return;
    fputc(byte, c->out);
    if (byte == '\n')
        fflush(c->out);
}

static size_t console_rx(void *opaque, uint8_t *buf, size_t max)
{
    struct console *c = opaque;
#if HAVE_POLL
    if (!c->read_stdin || c->stdin_eof || max == 0)
        return 0;
    struct pollfd p = {.fd = 0, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return 0;
    ssize_t n = read(0, buf, max);
    if (n <= 0) {
        c->stdin_eof = true;
        return 0;
    }
    return (size_t)n;
#else
    (void)c;
    (void)buf;
    (void)max;
    return 0;
#endif
}

static bool console_wait(void *opaque)
{
    struct console *c = opaque;
#if HAVE_POLL
    if (!c->read_stdin || c->stdin_eof)
        return false;
    struct pollfd p = {.fd = 0, .events = POLLIN};
    if (poll(&p, 1, -1) < 0)
        return false;
    return true;
#else
    (void)c;
    return false;
#endif
}

int console_open(struct console *c, struct machine_config *cfg, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    switch (cfg->serial) {
    case SERIAL_STDIO:
        c->out = stdout;
        c->read_stdin = true;
        break;
    case SERIAL_NONE:
        break;
    case SERIAL_FILE:
        c->out = fopen(cfg->serial_path, "wb");
        if (!c->out) {
            snprintf(err, errlen, "cannot open serial output '%s': %s", cfg->serial_path, strerror(errno));
            return -1;
        }
        c->close_out = true;
        break;
    }
    cfg->serial_tx = console_tx;
    cfg->serial_rx = console_rx;
    cfg->serial_wait = console_wait;
    cfg->serial_opaque = c;
    return 0;
}

void console_close(struct console *c)
{
    if (c->out) {
        fflush(c->out);
        if (c->close_out)
            fclose(c->out);
    }
    c->out = NULL;
}
