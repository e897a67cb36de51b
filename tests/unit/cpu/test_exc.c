/* Exceptions in 64-bit mode: vectors, error codes, CR2, the pushed frame, restart after a
 * fault, page-crossing stores that fault on the second page, double and triple fault. */
#include <criterion/criterion.h>

#include "harness.h"

struct exc_case {
    const char *name;
    const uint8_t *code;
    unsigned len;
    int vector;
    bool has_err;
    uint32_t err;
    uint64_t cr2;       /* checked when vector is #PF */
    uint64_t fault_off; /* offset of the faulting (or, for traps, next) instruction */
};

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static const struct exc_case exc_cases[] = {
    {"div_by_zero", CODE(0x31, 0xc9, 0xf7, 0xf1, 0xf4), 0, false, 0, 0, 2},
    {"ud2", CODE(0x90, 0x0f, 0x0b), 6, false, 0, 0, 1},
    {"lock_on_register_dest", CODE(0xf0, 0x01, 0xd8, 0xf4), 6, false, 0, 0, 0},
    {"lock_on_mov", CODE(0xf0, 0x89, 0x03, 0xf4), 6, false, 0, 0, 0},
    {"pf_not_present_read", CODE(0x48, 0x8b, 0x04, 0x25, 0x10, 0x00, 0xa0, 0x00, 0xf4), 14, true, 0,
     0xa00010, 0},
    {"pf_store_second_page", CODE(0x48, 0xc7, 0xc0, 0xfc, 0xff, 0x5f, 0x00, 0x48, 0x89, 0x08, 0xf4),
     14, true, 2, 0x600000, 7},
    {"gp_non_canonical", CODE(0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0x48, 0x8b, 0x18, 0xf4), 13,
     true, 0, 0, 10},
    {"int3_trap", CODE(0x90, 0xcc, 0xf4), 3, false, 0, 0, 2},
    {"gp_cr4_reserved", CODE(0x48, 0xc7, 0xc0, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x22, 0xe0, 0xf4), 13,
     true, 0, 0, 7},
    {"sse_movaps_misaligned", CODE(0xb8, 0x08, 0x00, 0x04, 0x00, 0x0f, 0x28, 0x00, 0xf4), 13, true, 0,
     0, 5},
    {"sse_unmasked_zero_divide_xm",
     CODE(0xc7, 0x04, 0x25, 0x00, 0x00, 0x04, 0x00, 0x80, 0x1d, 0x00, 0x00, 0x0f, 0xae, 0x14, 0x25,
          0x00, 0x00, 0x04, 0x00, 0xb8, 0x00, 0x00, 0x80, 0x3f, 0x66, 0x0f, 0x6e, 0xc0, 0x0f, 0x57,
          0xc9, 0xf3, 0x0f, 0x5e, 0xc1, 0xf4),
     19, false, 0, 0, 31},
    {"sse_with_cr0_ts_nm", CODE(0x0f, 0x20, 0xc0, 0x83, 0xc8, 0x08, 0x0f, 0x22, 0xc0, 0x0f, 0x58, 0xc1, 0xf4),
     7, false, 0, 0, 9},
    {"sse_without_osfxsr_ud",
     CODE(0x0f, 0x20, 0xe0, 0x25, 0xff, 0xfd, 0xff, 0xff, 0x0f, 0x22, 0xe0, 0x0f, 0x58, 0xc1, 0xf4), 6,
     false, 0, 0, 11},
    {"de_idiv_overflow", CODE(0xb8, 0, 0, 0, 0x80, 0x99, 0xb9, 0xff, 0xff, 0xff, 0xff, 0xf7, 0xf9, 0xf4),
     0, false, 0, 0, 11},
};

static void setup(struct th *t)
{
    th_init(t);
    th_mode64(t);
    th_idt64(t);
    /* Unmap the 2 MiB pages at 0x600000 and 0xA00000. */
    th_wr(t, 0x3000 + 8 * 3, 0, 8);
    th_wr(t, 0x3000 + 8 * 5, 0, 8);
}

Test(cpu_exc, table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(exc_cases); k++) {
        const struct exc_case *c = &exc_cases[k];
        struct th t;
        setup(&t);
        th_wr(&t, 0x5ffffc, 0xaabbccdd, 4);
        cpu_set_gpr(t.vp, REG_RCX, 0x1122334455667788ull);
        th_load(&t, TH_CODE, c->code, c->len);
        cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT, "%s", c->name);
        cr_assert_eq(th_vector(&t), c->vector, "%s: vector %d", c->name, th_vector(&t));
        uint64_t sp = cpu_get_gpr(t.vp, REG_RSP);
        unsigned e = c->has_err ? 8 : 0;
        cr_assert_eq(sp, TH_STACK - 40 - e, "%s: rsp %#llx", c->name, (unsigned long long)sp);
        if (c->has_err)
            cr_assert_eq(th_rd(&t, sp, 8), c->err, "%s: error code %#llx", c->name,
                         (unsigned long long)th_rd(&t, sp, 8));
        cr_assert_eq(th_rd(&t, sp + e, 8), TH_CODE + c->fault_off, "%s: pushed rip %#llx", c->name,
                     (unsigned long long)th_rd(&t, sp + e, 8));
        cr_assert_eq(th_rd(&t, sp + e + 8, 8), 0x08, "%s: pushed cs", c->name);
        cr_assert_eq(th_rd(&t, sp + e + 24, 8), TH_STACK, "%s: pushed rsp", c->name);
        if (c->vector == 14)
            cr_assert_eq(cpu_get_cr(t.vp, 2), c->cr2, "%s: cr2 %#llx", c->name,
                         (unsigned long long)cpu_get_cr(t.vp, 2));
        /* The failed page-crossing store left the first page untouched. */
        cr_assert_eq(th_rd(&t, 0x5ffffc, 4), 0xaabbccdd, "%s", c->name);
        th_fini(&t);
    }
}

Test(cpu_exc, fault_then_resume_after_mapping)
{
    struct th t;
    setup(&t);
    /* mov rax, [0xA00010]; hlt -- fault, map the page, IRET-less restart by resetting RIP */
    const uint8_t code[] = {0x48, 0x8b, 0x04, 0x25, 0x10, 0x00, 0xa0, 0x00, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 14);
    th_wr(&t, 0x3000 + 8 * 5, (5ull << 21) | 0x83, 8);
    th_wr(&t, 0xa00010, 0x77, 8);
    cpu_tlb_flush_all(t.vp, true);
    cpu_set_halted(t.vp, false);
    cpu_set_rip(t.vp, TH_CODE);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 0x77);
    th_fini(&t);
}

Test(cpu_exc, int_and_iretq)
{
    struct th t;
    setup(&t);
    /* main: int 0x80; mov ecx, ebx; hlt.  vector 0x80 handler: mov ebx, 0x55; iretq */
    const uint8_t code[] = {0xcd, 0x80, 0x89, 0xd9, 0xf4};
    const uint8_t handler[] = {0xbb, 0x55, 0, 0, 0, 0x48, 0xcf};
    th_load(&t, TH_CODE, code, sizeof(code));
    th_load(&t, TH_HANDLER + 16 * 0x80, handler, sizeof(handler));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RCX), 0x55);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), TH_STACK);
    cr_assert_eq(cpu_get_rip(t.vp), TH_CODE + 5);
    th_fini(&t);
}

Test(cpu_exc, page_crossing_read)
{
    struct th t;
    setup(&t);
    /* Two present 2 MiB pages at 0x400000/0x5fffff: read 8 bytes across 0x5ffffc..0x600003 after
     * mapping 0x600000 again. */
    th_wr(&t, 0x3000 + 8 * 3, (3ull << 21) | 0x83, 8);
    th_wr(&t, 0x5ffff8, 0x1111111122222222ull, 8);
    th_wr(&t, 0x600000, 0x3333333344444444ull, 8);
    const uint8_t code[] = {0x48, 0xc7, 0xc0, 0xf8, 0xff, 0x5f, 0x00, 0x48, 0x8b, 0x58, 0x04, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX), 0x4444444411111111ull);
    th_fini(&t);
}

Test(cpu_exc, double_and_triple_fault)
{
    struct th t;
    setup(&t);
    /* #PF whose IDT entry is not present -> #NP? No: vector 14 gate absent -> #GP -> #DF (vector 8). */
    th_wr(&t, TH_IDT + 16 * 14 + 4, 0, 4); /* clear P and type of the #PF gate */
    const uint8_t code[] = {0x48, 0x8b, 0x04, 0x25, 0x10, 0x00, 0xa0, 0x00, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 8);
    cr_assert_eq(th_rd(&t, cpu_get_gpr(t.vp, REG_RSP), 8), 0, "#DF error code is 0");
    /* Now make #DF undeliverable too: triple fault. */
    th_wr(&t, TH_IDT + 16 * 8 + 4, 0, 4);
    cpu_set_halted(t.vp, false);
    cpu_set_rip(t.vp, TH_CODE);
    cpu_set_gpr(t.vp, REG_RSP, TH_STACK);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_SHUTDOWN);
    th_fini(&t);
}
