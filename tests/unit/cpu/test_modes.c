/* Event delivery outside long mode: real-mode IVT with IRET, 32-bit protected-mode IDT gates
 * with and without error codes, and a ring 3 -> ring 0 interrupt through the 32-bit TSS. */
#include <criterion/criterion.h>

#include "harness.h"

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

Test(cpu_modes, real_mode_int_iret)
{
    struct th t;
    th_init(&t);
    th_mode16(&t);
    const uint8_t main_code[] = {0xcd, 0x10, 0x89, 0xd9, 0xf4}; /* int 0x10; mov cx, bx; hlt */
    const uint8_t handler[] = {0xbb, 0x07, 0x00, 0xcf};         /* mov bx, 7; iret */
    th_load(&t, TH_CODE, main_code, sizeof(main_code));
    th_load(&t, TH_CODE + 0x40, handler, sizeof(handler));
    th_wr(&t, 0x10 * 4, (uint32_t)(TH_CODE >> 4) << 16 | 0x40, 4);
    cpu_set_rflags(t.vp, 0x202);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RCX) & 0xffff, 7);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP) & 0xffff, 0x8000);
    cr_assert_eq(cpu_get_rip(t.vp), 5);
    cr_assert_eq(cpu_get_rflags(t.vp) & 0x200, 0x200, "IRET restored IF");
    th_fini(&t);
}

static void idt32(struct th *t, unsigned vec, uint32_t handler, unsigned dpl)
{
    uint64_t g = (handler & 0xffff) | (0x08ull << 16) | ((uint64_t)(0x8e | dpl << 5) << 40) |
                 ((uint64_t)(handler >> 16) << 48);
    th_wr(t, TH_IDT + 8 * vec, g, 8);
    th_wr(t, handler, 0xf4, 1);
    struct dtr d = {TH_IDT, 8 * 256 - 1};
    cpu_set_dtr(t->vp, true, &d);
}

struct pm32_case {
    const char *name;
    const uint8_t *code;
    unsigned len;
    unsigned vec;
    bool has_err;
    uint32_t err;
    uint32_t eip;
};

static const struct pm32_case pm32_cases[] = {
    {"ud2", CODE(0x90, 0x0f, 0x0b), 6, false, 0, TH_CODE + 1},
    {"int_0x21", CODE(0xcd, 0x21, 0xf4), 0x21, false, 0, TH_CODE + 2},
    /* mov ax, 0x33 (beyond the GDT limit); mov ds, ax -> #GP(0x30) */
    {"bad_selector", CODE(0x66, 0xb8, 0x33, 0x00, 0x8e, 0xd8, 0xf4), 13, true, 0x30, TH_CODE + 4},
    /* div by zero */
    {"divide", CODE(0x31, 0xc9, 0xf7, 0xf1, 0xf4), 0, false, 0, TH_CODE + 2},
};

Test(cpu_modes, pm32_idt_table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(pm32_cases); k++) {
        const struct pm32_case *c = &pm32_cases[k];
        struct th t;
        th_init(&t);
        th_mode32(&t);
        idt32(&t, c->vec, 0x7000 + 16 * c->vec, 0);
        th_load(&t, TH_CODE, c->code, c->len);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", c->name);
        cr_assert_eq(cpu_get_rip(t.vp), 0x7000 + 16 * c->vec + 1, "%s: rip %#llx", c->name,
                     (unsigned long long)cpu_get_rip(t.vp));
        uint32_t sp = (uint32_t)cpu_get_gpr(t.vp, REG_RSP);
        unsigned e = c->has_err ? 4 : 0;
        cr_assert_eq(sp, TH_STACK - 12 - e, "%s: esp %#x", c->name, sp);
        if (c->has_err)
            cr_assert_eq(th_rd(&t, sp, 4), c->err, "%s: error %#llx", c->name,
                         (unsigned long long)th_rd(&t, sp, 4));
        cr_assert_eq(th_rd(&t, sp + e, 4), c->eip, "%s: eip", c->name);
        cr_assert_eq(th_rd(&t, sp + e + 4, 4), 0x08, "%s: cs", c->name);
        th_fini(&t);
    }
}

Test(cpu_modes, ring3_interrupt_switches_stack)
{
    struct th t;
    th_init(&t);
    th_mode32(&t);
    /* GDT: 0x08 code0, 0x10 data0, 0x1b code3, 0x23 data3, 0x28 TSS (32-bit, at 0x9000). */
    th_wr(&t, TH_GDT + 24, 0x00cffb000000ffffull, 8);
    th_wr(&t, TH_GDT + 32, 0x00cff3000000ffffull, 8);
    th_wr(&t, TH_GDT + 40, 0x0000890090000067ull, 8);
    struct dtr g = {TH_GDT, 0x2f};
    cpu_set_dtr(t.vp, false, &g);
    th_wr(&t, 0x9004, 0x60000, 4); /* ESP0 */
    th_wr(&t, 0x9008, 0x10, 4);    /* SS0 */
    idt32(&t, 0x80, 0x7800, 3);
    /* ltr ax (0x28); push 0x23; push 0x50000; pushfd; push 0x1b; push user; iretd;
     * user: int 0x80 */
    const uint8_t code[] = {0xb8, 0x28, 0x00, 0x00, 0x00, 0x0f, 0x00, 0xd8, 0x6a, 0x23, 0x68,
                            0x00, 0x00, 0x05, 0x00, 0x9c, 0x6a, 0x1b, 0x68, 0x20, 0x00, 0x01,
                            0x00, 0xcf, [0x20] = 0xcd, 0x80, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "rip %#llx", (unsigned long long)cpu_get_rip(t.vp));
    cr_assert_eq(cpu_get_rip(t.vp), 0x7801);
    cr_assert_eq(cpu_get_cpl(t.vp), 0);
    uint32_t sp = (uint32_t)cpu_get_gpr(t.vp, REG_RSP);
    cr_assert_eq(sp, 0x60000 - 20, "esp %#x", sp);
    cr_assert_eq(th_rd(&t, sp, 4), TH_CODE + 0x22, "return EIP");
    cr_assert_eq(th_rd(&t, sp + 4, 4), 0x1b, "user CS");
    cr_assert_eq(th_rd(&t, sp + 12, 4), 0x50000, "user ESP");
    cr_assert_eq(th_rd(&t, sp + 16, 4), 0x23, "user SS");
    struct seg tr;
    cpu_get_seg(t.vp, SEG_TR, &tr);
    cr_assert_eq(tr.attr & 0xf, 0xb, "LTR marks the TSS busy");
    th_fini(&t);
}

Test(cpu_modes, user_io_permission_bitmap)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    th_idt64(&t);
    th_user_pages(&t);
    /* Ring 0: iretq to ring 3 at TH_CODE+0x100; ring 3: out 0x80,al; out 0x81,al; hlt */
    const uint8_t k[] = {0x6a, 0x33, 0x68, 0x00, 0x00, 0x05, 0x00, 0x6a, 0x02, 0x6a, 0x2b,
                         0x68, 0x00, 0x01, 0x01, 0x00, 0x48, 0xcf};
    const uint8_t u[] = {0xe6, 0x80, 0xe6, 0x81, 0xf4};
    th_load(&t, TH_CODE, k, sizeof(k));
    th_load(&t, TH_CODE + 0x100, u, sizeof(u));
    /* TSS at 0x9000: RSP0, I/O map at +0x68 allowing only port 0x80. */
    struct seg tr = {0x18, 0x9000, 0x68 + 0x2000, 0x8b};
    cpu_set_seg(t.vp, SEG_TR, &tr);
    th_wr(&t, 0x9004, 0x70000, 8);
    th_wr(&t, 0x9066, 0x68, 2);
    for (unsigned b = 0; b < 0x2001; b++)
        th_wr(&t, 0x9068 + b, 0xff, 1);
    th_wr(&t, 0x9068 + 0x10, 0xfe, 1);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "rip %#llx", (unsigned long long)cpu_get_rip(t.vp));
    cr_assert_eq(t.reasons[EXIT_REASON_IO_INSTRUCTION], 1, "port 0x80 allowed");
    cr_assert_eq(th_vector(&t), 13, "port 0x81 denied");
    cr_assert_eq(th_rd(&t, cpu_get_gpr(t.vp, REG_RSP) + 8, 8), TH_CODE + 0x102);
    th_fini(&t);
}
