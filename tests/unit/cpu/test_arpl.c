/* ARPL (SDM Vol 2): in 32-bit protected mode it raises the destination selector's RPL to the
 * source's and reports the change in ZF; it is #UD in real mode, and opcode 63 is MOVSXD in
 * 64-bit mode. */
#include <criterion/criterion.h>

#include "harness.h"

#define RFL_ZF (1u << 6)

struct arpl_case {
    const char *name;
    uint16_t dst, src, want;
    bool zf;
    bool mem; /* destination in memory at TH_DATA */
};

static const struct arpl_case cases[] = {
    {"raise_0_to_3", 0x0010, 0x0003, 0x0013, true, false},
    {"raise_1_to_2", 0x1231, 0xfff2, 0x1232, true, false},
    {"equal_kept", 0x0022, 0x0002, 0x0022, false, false},
    {"higher_kept", 0x0023, 0x0001, 0x0023, false, false},
    {"mem_raise", 0x0008, 0x0003, 0x000b, true, true},
    {"mem_kept", 0x000b, 0x0000, 0x000b, false, true},
};

Test(cpu_arpl, protected_mode_table)
{
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct arpl_case *c = &cases[k];
        struct th t;
        th_init(&t);
        th_mode32(&t);
        /* arpl %cx, %ax | arpl %cx, (0x40000) ; hlt */
        static const uint8_t reg[] = {0x63, 0xc8, 0xf4};
        static const uint8_t mem[] = {0x63, 0x0d, 0x00, 0x00, 0x04, 0x00, 0xf4};
        if (c->mem)
            th_load(&t, TH_CODE, mem, sizeof(mem));
        else
            th_load(&t, TH_CODE, reg, sizeof(reg));
        cpu_set_gpr(t.vp, 0, 0xabcd0000u | c->dst);
        cpu_set_gpr(t.vp, 1, c->src);
        th_wr(&t, TH_DATA, c->dst, 2);
        cpu_set_rflags(t.vp, c->zf ? 2 : 2 | RFL_ZF);
        th_run(&t, 10);
        uint16_t got = c->mem ? (uint16_t)th_rd(&t, TH_DATA, 2) : (uint16_t)cpu_get_gpr(t.vp, 0);
        cr_expect_eq(got, c->want, "%s: dst 0x%x, want 0x%x", c->name, got, c->want);
        cr_expect_eq((cpu_get_rflags(t.vp) & RFL_ZF) != 0, c->zf, "%s: ZF", c->name);
        if (!c->mem)
            cr_expect_eq(cpu_get_gpr(t.vp, 0) >> 16, 0xabcdu, "%s: upper EAX bits kept", c->name);
        th_fini(&t);
    }
}

Test(cpu_arpl, real_mode_is_ud)
{
    struct th t;
    th_init(&t);
    th_mode16(&t);
    /* IVT entry 6 -> 0000:0x7060, a HLT */
    th_wr(&t, 6 * 4, 0x7060, 2);
    th_wr(&t, 6 * 4 + 2, 0, 2);
    th_wr(&t, 0x7060, 0xf4, 1);
    static const uint8_t code[] = {0x63, 0xc8, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    th_run(&t, 10);
    cr_expect_eq(cpu_get_rip(t.vp), 0x7061, "ARPL in real mode must raise #UD (rip 0x%llx)",
                 (unsigned long long)cpu_get_rip(t.vp));
    th_fini(&t);
}

Test(cpu_arpl, opcode_63_is_movsxd_in_64bit_mode)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    /* movsxd %eax, %rcx (REX.W 63 C8) ; hlt */
    static const uint8_t code[] = {0x48, 0x63, 0xc8, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cpu_set_gpr(t.vp, 0, 0x80000001u);
    th_run(&t, 10);
    cr_expect_eq(cpu_get_gpr(t.vp, 1), 0xffffffff80000001ull);
    th_fini(&t);
}
