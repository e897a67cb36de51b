/* isa-debug-exit: a write of v requests exit status (v << 1) | 1. */
#include <criterion/criterion.h>

#include "devices/debugexit.h"

struct rec { int n; enum sys_request req; int status; };
static void req(void *opaque, enum sys_request r, int status)
{
    struct rec *x = opaque;
    x->n++;
    x->req = r;
    x->status = status;
}

static const struct { uint32_t v; unsigned size; int status; } cases[] = {
    {0x00, 1, 1}, {0x01, 1, 3}, {0x10, 1, 0x21}, {0xff, 1, 0x1ff}, {0x1234, 2, 0x2469},
    {0x1ff, 1, 0x1ff}, /* a byte write carries only the low byte */
};

Test(debugexit, status_encoding)
{
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct iobus bus;
        struct debugexit d;
        struct rec r = {0, SYS_REQ_RESET, -1};
        struct sys_ctl ctl = {&r, req, NULL};
        iobus_init(&bus);
        debugexit_init(&d, DEBUGEXIT_PORT, &ctl);
        cr_assert_eq(debugexit_register(&d, &bus), 0);
        iobus_write(&bus, 0xf4, cases[i].v, cases[i].size);
        cr_expect_eq(r.n, 1, "case %zu", i);
        cr_expect_eq(r.req, SYS_REQ_DEBUG_EXIT, "case %zu", i);
        cr_expect_eq(r.status, cases[i].status, "case %zu: status %#x", i, r.status);
    }
}

Test(debugexit, reads_do_not_exit)
{
    struct iobus bus;
    struct debugexit d;
    struct rec r = {0, SYS_REQ_RESET, -1};
    struct sys_ctl ctl = {&r, req, NULL};
    iobus_init(&bus);
    debugexit_init(&d, DEBUGEXIT_PORT, &ctl);
    debugexit_register(&d, &bus);
    iobus_read(&bus, 0xf4, 1);
    cr_expect_eq(r.n, 0);
}
