/* MONITOR/MWAIT: MWAIT is a hinted HLT that needs an armed monitor; ECX bit 0 (interrupts as
 * break events) is the one extension; other ECX bits #GP; MONITOR faults as a one-byte load;
 * both are exits (VT-x reasons 39 and 36). Wake-up is the machine's (test_machine.c, sys_mwait). */
#include <criterion/criterion.h>

#include "harness.h"

#define MONITOR 0x0f, 0x01, 0xc8
#define MWAIT 0x0f, 0x01, 0xc9
#define EAX_DATA 0xb8, 0x00, 0x00, 0x04, 0x00 /* mov eax, TH_DATA */
#define ECX(v) 0xb9, (v), 0x00, 0x00, 0x00
#define EDX0 0x31, 0xd2
#define HLT 0xf4

struct mwait_case {
    const char *name;
    uint8_t code[32];
    unsigned len;
    int vector;        /* expected exception, or -1 */
    unsigned state;    /* cpu_mwait_state after the run */
    unsigned mwaits;   /* MWAIT exits */
};

#define CASE(nm, vec, st, nmw, ...)                                                          \
    {nm, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__}), vec, st, nmw}

static const struct mwait_case cases[] = {
    CASE("monitor_mwait_waits", -1, CPU_MWAIT_WAIT, 1, EAX_DATA, ECX(0), EDX0, MONITOR, MWAIT, HLT),
    CASE("mwait_break_event", -1, CPU_MWAIT_BREAK, 1, EAX_DATA, ECX(0), EDX0, MONITOR, ECX(1), MWAIT,
         HLT),
    CASE("mwait_without_monitor_does_not_wait", -1, CPU_MWAIT_NONE, 1, ECX(0), MWAIT, HLT),
    CASE("mwait_ecx_bit1_gp", 13, CPU_MWAIT_NONE, 0, EAX_DATA, ECX(0), MONITOR, ECX(2), MWAIT, HLT),
    CASE("monitor_ecx_nonzero_gp", 13, CPU_MWAIT_NONE, 0, EAX_DATA, ECX(1), MONITOR, HLT),
    /* 2 GiB lies outside the harness's identity map. */
    CASE("monitor_unmapped_pf", 14, CPU_MWAIT_NONE, 0, 0xb8, 0x00, 0x00, 0x00, 0x80, ECX(0), MONITOR,
         HLT),
};

Test(cpu_mwait, table)
{
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct mwait_case *c = &cases[k];
        struct th t;
        th_init(&t);
        th_mode64(&t);
        th_idt64(&t);
        th_load(&t, TH_CODE, c->code, c->len);
        enum cpu_stop st = th_run(&t, 100);
        cr_expect_eq(st, CPU_STOP_HALT, "%s: stop %d", c->name, st);
        cr_expect_eq(th_vector(&t), c->vector, "%s: vector %d", c->name, th_vector(&t));
        cr_expect_eq(cpu_mwait_state(t.vp), c->state, "%s: state %u", c->name, cpu_mwait_state(t.vp));
        cr_expect_eq(t.reasons[EXIT_REASON_MWAIT], c->mwaits, "%s: MWAIT exits", c->name);
        if (c->vector < 0 && c->state != CPU_MWAIT_NONE) {
            /* Halted after the MWAIT: woken, it goes on to the HLT, which is a plain halt. */
            cr_expect_eq(cpu_get_rip(t.vp), TH_CODE + c->len - 1, "%s: rip", c->name);
            cpu_set_halted(t.vp, false);
            cr_expect_eq(cpu_mwait_state(t.vp), CPU_MWAIT_NONE);
            cr_expect_eq(th_run(&t, 100), CPU_STOP_HALT);
            cr_expect_eq(cpu_get_rip(t.vp), TH_CODE + c->len, "%s: HLT after the wake-up", c->name);
            cr_expect_eq(cpu_mwait_state(t.vp), CPU_MWAIT_NONE, "%s: HLT is no MWAIT", c->name);
        }
        th_fini(&t);
    }
}

/* MWAIT consumes the monitor: a second MWAIT without MONITOR does not wait. */
Test(cpu_mwait, monitor_is_consumed)
{
    static const uint8_t code[] = {EAX_DATA, ECX(0), EDX0, MONITOR, MWAIT, MWAIT, HLT};
    struct th t;
    th_init(&t);
    th_mode64(&t);
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_expect_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_expect_eq(cpu_mwait_state(t.vp), CPU_MWAIT_WAIT);
    cpu_set_halted(t.vp, false);
    cr_expect_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_expect_eq(cpu_get_rip(t.vp), TH_CODE + sizeof(code), "the second MWAIT fell through to HLT");
    cr_expect_eq(t.reasons[EXIT_REASON_MWAIT], 2);
    cr_expect_eq(t.reasons[EXIT_REASON_MONITOR], 1);
    th_fini(&t);
}

static uint64_t count_read(void *dev, gpa_t off, unsigned size)
{
    (void)off, (void)size;
    ++*(unsigned *)dev;
    return 0;
}
static void ignore_write(void *dev, gpa_t off, uint64_t v, unsigned size)
{
    (void)dev, (void)off, (void)v, (void)size;
}
static const struct mmio_ops counting_ops = {count_read, ignore_write};

/* MONITOR names an address; it does not read it, so a device register is not touched. */
Test(cpu_mwait, monitor_reads_no_device)
{
    struct th t;
    unsigned reads = 0;
    th_init(&t);
    cr_assert_eq(physmem_map_mmio(&t.pm, 0x900000, 0x1000, &counting_ops, &reads, "test"), 0);
    th_mode64(&t);
    static const uint8_t code[] = {0xb8, 0x00, 0x00, 0x90, 0x00, ECX(0), EDX0, MONITOR, HLT};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_expect_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_expect_eq(cpu_get_rip(t.vp), TH_CODE + sizeof(code), "MONITOR completed");
    cr_expect_eq(reads, 0, "MONITOR read the device %u time(s)", reads);
    th_fini(&t);
}
