/* Protected-mode and 64-bit segment-register loads (SDM Vol 2 MOV/POP/LDS, Vol 3 5.5-5.8):
 * null selectors, table limits, LDT selectors, types, privilege, presence, the vector and
 * error code of each fault, and the accessed bit written back to the descriptor. */
#include <criterion/criterion.h>

#include "harness.h"

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define NOFAULT (-1)
#define TSS 0x9000u
#define LDT 0x8000u
#define RING0_STACK 0x60000u

/* A descriptor: base, 20-bit limit, access byte (P DPL S type), flags nibble (G D/B L AVL). */
static uint64_t desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)flags << 52 |
           (uint64_t)(base >> 24) << 56;
}

enum mode { M32, M64 };

struct load_case {
    const char *name;
    enum mode mode;
    unsigned cpl;
    unsigned seg;      /* ES CS SS DS FS GS = 0..5 */
    uint16_t sel;
    unsigned access;   /* access byte of the descriptor at GDT 0x40 and LDT 0x08 (0: none) */
    bool ldt;          /* LDTR holds the LDT at LDT (limit 0xf); else it is null */
    uint16_t gdt_limit; /* 0: 0x47 */
    int vec;
    uint32_t err;
};

static const struct load_case cases[] = {
    /* Null selectors: fine for data registers, #GP(0) for SS outside 64-bit mode. */
    {"ds_null", M32, 0, SEG_DS, 0x00, 0, false, 0, NOFAULT, 0},
    {"ds_null_rpl3", M32, 0, SEG_DS, 0x03, 0, false, 0, NOFAULT, 0},
    {"gs_null", M32, 0, SEG_GS, 0x00, 0, false, 0, NOFAULT, 0},
    {"ss_null", M32, 0, SEG_SS, 0x00, 0, false, 0, 13, 0},
    {"ss_null_rpl3", M32, 0, SEG_SS, 0x03, 0, false, 0, 13, 0},
    /* Table limits and the LDT. */
    {"ds_beyond_gdt", M32, 0, SEG_DS, 0x48, 0x92, false, 0, 13, 0x48},
    {"ds_gdt_limit_mid_entry", M32, 0, SEG_DS, 0x40, 0x92, false, 0x44, 13, 0x40},
    {"ds_ldt_null_ldtr", M32, 0, SEG_DS, 0x0c, 0x92, false, 0, 13, 0x0c},
    {"ds_ldt", M32, 0, SEG_DS, 0x0c, 0x92, true, 0, NOFAULT, 0},
    {"ds_ldt_beyond_limit", M32, 0, SEG_DS, 0x14, 0x92, true, 0, 13, 0x14},
    {"ss_ldt_null_ldtr", M32, 0, SEG_SS, 0x0c, 0x92, false, 0, 13, 0x0c},
    /* Types. */
    {"ds_system_descriptor", M32, 0, SEG_DS, 0x40, 0x89, false, 0, 13, 0x40},
    {"ds_execute_only_code", M32, 0, SEG_DS, 0x40, 0x98, false, 0, 13, 0x40},
    {"ds_readable_code", M32, 0, SEG_DS, 0x40, 0x9a, false, 0, NOFAULT, 0},
    {"es_readonly_data", M32, 0, SEG_ES, 0x40, 0x90, false, 0, NOFAULT, 0},
    {"fs_expand_down", M32, 0, SEG_FS, 0x40, 0x96, false, 0, NOFAULT, 0},
    {"ss_readonly_data", M32, 0, SEG_SS, 0x40, 0x90, false, 0, 13, 0x40},
    {"ss_code", M32, 0, SEG_SS, 0x40, 0x9a, false, 0, 13, 0x40},
    {"ss_system_descriptor", M32, 0, SEG_SS, 0x40, 0x82, false, 0, 13, 0x40},
    {"ss_writable", M32, 0, SEG_SS, 0x40, 0x92, false, 0, NOFAULT, 0},
    {"ss_expand_down", M32, 0, SEG_SS, 0x40, 0x96, false, 0, NOFAULT, 0},
    /* Presence: #NP for data registers, #SS for SS; type faults come first. */
    {"ds_not_present", M32, 0, SEG_DS, 0x40, 0x12, false, 0, 11, 0x40},
    {"gs_not_present", M32, 0, SEG_GS, 0x40, 0x12, false, 0, 11, 0x40},
    {"ds_not_present_execute_only", M32, 0, SEG_DS, 0x40, 0x18, false, 0, 13, 0x40},
    {"ss_not_present", M32, 0, SEG_SS, 0x40, 0x12, false, 0, 12, 0x40},
    {"ss_not_present_readonly", M32, 0, SEG_SS, 0x40, 0x10, false, 0, 13, 0x40},
    /* Privilege: data and non-conforming code need DPL >= max(CPL, RPL); SS needs
     * RPL = DPL = CPL; conforming code is not checked. */
    {"ds_rpl_above_dpl", M32, 0, SEG_DS, 0x43, 0x92, false, 0, 13, 0x40},
    {"ds_cpl_above_dpl", M32, 3, SEG_DS, 0x43, 0x92, false, 0, 13, 0x40},
    {"ds_cpl3_dpl3", M32, 3, SEG_DS, 0x43, 0xf2, false, 0, NOFAULT, 0},
    {"ds_cpl3_rpl0_dpl3", M32, 3, SEG_DS, 0x40, 0xf2, false, 0, NOFAULT, 0},
    {"ds_cpl3_nonconforming_code", M32, 3, SEG_DS, 0x43, 0x9a, false, 0, 13, 0x40},
    {"ds_cpl3_conforming_code", M32, 3, SEG_DS, 0x43, 0x9e, false, 0, NOFAULT, 0},
    {"ss_rpl_ne_cpl", M32, 0, SEG_SS, 0x43, 0x92, false, 0, 13, 0x40},
    {"ss_dpl_ne_cpl", M32, 0, SEG_SS, 0x40, 0xf2, false, 0, 13, 0x40},
    {"ss_cpl3", M32, 3, SEG_SS, 0x43, 0xf2, false, 0, NOFAULT, 0},
    {"ss_cpl3_dpl0", M32, 3, SEG_SS, 0x43, 0x92, false, 0, 13, 0x40},
    {"ss_null_cpl3", M32, 3, SEG_SS, 0x03, 0, false, 0, 13, 0},
    /* MOV to CS does not exist. */
    {"mov_cs", M32, 0, SEG_CS, 0x08, 0, false, 0, 6, 0},
    /* 64-bit mode: a null SS at CPL < 3 with RPL = CPL; the descriptor checks still apply. */
    {"ss_null_64", M64, 0, SEG_SS, 0x00, 0, false, 0, NOFAULT, 0},
    {"ss_null_rpl3_64", M64, 0, SEG_SS, 0x03, 0, false, 0, 13, 0},
    {"ss_null_cpl3_64", M64, 3, SEG_SS, 0x03, 0, false, 0, 13, 0},
    {"ds_null_64", M64, 0, SEG_DS, 0x00, 0, false, 0, NOFAULT, 0},
    {"ds_not_present_64", M64, 0, SEG_DS, 0x40, 0x12, false, 0, 11, 0x40},
    {"ds_execute_only_64", M64, 0, SEG_DS, 0x40, 0x98, false, 0, 13, 0x40},
    {"ss_dpl_ne_cpl_64", M64, 0, SEG_SS, 0x40, 0xf2, false, 0, 13, 0x40},
    {"fs_64", M64, 0, SEG_FS, 0x40, 0x92, false, 0, NOFAULT, 0},
};

/* Gates (DPL 3, so INT3 reaches them from ring 3) for vectors 0-31; handler: HLT. */
static void idt32(struct th *t)
{
    for (uint32_t v = 0; v < 32; v++) {
        uint32_t h = (uint32_t)TH_HANDLER + 16 * v;
        th_wr(t, h, 0xf4, 1);
        uint64_t g = (h & 0xffff) | (0x08ull << 16) | (0xeeull << 40) | ((uint64_t)(h >> 16) << 48);
        th_wr(t, TH_IDT + 8 * v, g, 8);
    }
    struct dtr d = {TH_IDT, 8 * 32 - 1};
    cpu_set_dtr(t->vp, true, &d);
}

static void setup(struct th *t, enum mode m, unsigned cpl, uint16_t gdt_limit)
{
    th_init(t);
    if (m == M32) {
        th_mode32(t);
        idt32(t);
        th_wr(t, TH_GDT + 0x18, desc(0, 0xfffff, 0xfb, 0xc), 8);
        th_wr(t, TH_GDT + 0x20, desc(0, 0xfffff, 0xf3, 0xc), 8);
        th_wr(t, TSS + 4, RING0_STACK, 4); /* ESP0 */
        th_wr(t, TSS + 8, 0x10, 4);        /* SS0 */
        struct seg tr = {0x28, TSS, 0x67, 0x8b};
        cpu_set_seg(t->vp, SEG_TR, &tr);
        struct dtr g = {TH_GDT, gdt_limit};
        cpu_set_dtr(t->vp, false, &g);
        if (cpl == 3) {
            struct seg cs = {0x1b, 0, 0xffffffff, 0xc0fb}, ss = {0x23, 0, 0xffffffff, 0xc0f3};
            cpu_set_seg(t->vp, SEG_CS, &cs);
            cpu_set_seg(t->vp, SEG_SS, &ss);
        }
    } else {
        th_mode64(t);
        th_idt64(t);
        th_user_pages(t);
        th_wr(t, TSS + 4, RING0_STACK, 8); /* RSP0 */
        if (cpl == 3) {
            struct seg cs = {0x2b, 0, 0xffffffff, 0xa0fb}, ss = {0x33, 0, 0xffffffff, 0xc0f3};
            cpu_set_seg(t->vp, SEG_CS, &cs);
            cpu_set_seg(t->vp, SEG_SS, &ss);
        }
    }
}

Test(cpu_segload, mov_sreg_table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        const struct load_case *c = &cases[k];
        struct th t;
        setup(&t, c->mode, c->cpl, c->gdt_limit ? c->gdt_limit : 0x47);
        /* 1 MiB, or 64 KiB expand-down (valid from 0x10000): room for frames at ESP. */
        uint32_t limit = (c->access & 0xc) == 0x4 ? 0xffff : 0xfffff;
        if (c->access) {
            th_wr(&t, TH_GDT + 0x40, desc(0x1000, limit, c->access, 0x4), 8);
            th_wr(&t, LDT + 0x08, desc(0x2000, limit, c->access, 0x4), 8);
        }
        if (c->ldt) {
            struct seg ldtr = {0x38, LDT, 0xf, 0x82};
            cpu_set_seg(t.vp, SEG_LDTR, &ldtr);
        }
        /* mov ax, sel; mov sreg, ax; int3 */
        th_load(&t, TH_CODE, CODE(0x66, 0xb8, (uint8_t)c->sel, (uint8_t)(c->sel >> 8), 0x8e,
                                  (uint8_t)(0xc0 | c->seg << 3), 0xcc));
        struct seg before;
        cpu_get_seg(t.vp, c->seg, &before);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s: did not halt", c->name);
        int want = c->vec == NOFAULT ? 3 : c->vec;
        cr_assert_eq(th_vector(&t), want, "%s: vector %d, want %d", c->name, th_vector(&t), want);
        struct seg s;
        cpu_get_seg(t.vp, c->seg, &s);
        uint64_t sp = cpu_get_gpr(t.vp, REG_RSP);
        unsigned w = c->mode == M64 ? 8 : 4;
        if (c->vec != NOFAULT) {
            bool has_err = c->vec != 6;
            if (has_err)
                cr_assert_eq(th_rd(&t, sp, 4), c->err, "%s: error code %#llx, want %#x", c->name,
                             (unsigned long long)th_rd(&t, sp, 4), c->err);
            cr_assert_eq(th_rd(&t, sp + (has_err ? w : 0), w), TH_CODE + 4, "%s: faulting EIP",
                         c->name);
            if (c->cpl == 3 && c->seg == SEG_SS && c->mode == M32)
                cr_assert_eq(th_rd(&t, sp + 20, 4), before.sel, "%s: SS changed", c->name);
            else if (c->seg != SEG_CS && !(c->cpl == 3 && c->seg == SEG_SS))
                cr_assert_eq(s.sel, before.sel, "%s: register changed", c->name);
            th_fini(&t);
            continue;
        }
        if (c->cpl == 3 && c->seg == SEG_SS) {
            /* INT3 switched to the ring-0 stack; the frame holds the SS that was loaded. */
            cr_assert_eq(th_rd(&t, sp + 16, 4), c->sel, "%s: SS in the frame", c->name);
            cr_assert_eq(th_rd(&t, TH_GDT + 0x45, 1), c->access | 1, "%s: accessed bit", c->name);
            th_fini(&t);
            continue;
        }
        cr_assert_eq(s.sel, c->sel, "%s: selector %#x", c->name, s.sel);
        if ((c->sel & 0xfffc) == 0) {
            cr_assert(s.attr & (1u << 16), "%s: a null selector makes the register unusable",
                      c->name);
            if (c->seg == SEG_SS)
                cr_assert_eq((s.attr >> 5) & 3, c->cpl, "%s: null SS DPL", c->name);
        } else {
            uint64_t table = (c->sel & 4) ? LDT : TH_GDT;
            cr_assert_eq(s.base, (c->sel & 4) ? 0x2000u : 0x1000u, "%s: base", c->name);
            cr_assert_eq(s.limit, limit, "%s: limit", c->name);
            cr_assert_eq(s.attr & 0xff, c->access | 1, "%s: attr %#x", c->name, s.attr);
            cr_assert_eq(th_rd(&t, table + (c->sel & 0xfff8) + 5, 1), c->access | 1,
                         "%s: accessed bit written back", c->name);
        }
        th_fini(&t);
    }
}

/* POP DS and LDS fault before changing ESP or the destination register; LSS loads both. */
Test(cpu_segload, pop_and_far_pointer_loads)
{
    struct th t;
    setup(&t, M32, 0, 0x47);
    th_wr(&t, TH_GDT + 0x40, desc(0, 0xfffff, 0x92, 0xc), 8);
    /* push 0x43; pop ds -> #GP(0x40) (RPL 3 > DPL 0) */
    th_load(&t, TH_CODE, CODE(0x6a, 0x43, 0x1f, 0xcc));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13);
    uint32_t sp = (uint32_t)cpu_get_gpr(t.vp, REG_RSP);
    cr_assert_eq(th_rd(&t, sp, 4), 0x40);
    cr_assert_eq(th_rd(&t, sp + 4, 4), TH_CODE + 2);
    cr_assert_eq(sp, TH_STACK - 4 - 16, "the frame sits below the selector POP left alone");
    th_fini(&t);

    setup(&t, M32, 0, 0x47);
    th_wr(&t, TH_GDT + 0x40, desc(0, 0xfffff, 0x12, 0xc), 8);
    /* lds eax, [ebx] with a not-present descriptor -> #NP(0x40), EAX kept */
    th_load(&t, TH_CODE, CODE(0xc5, 0x03, 0xcc));
    th_wr(&t, 0x40000, 0x12345678, 4);
    th_wr(&t, 0x40004, 0x40, 2);
    cpu_set_gpr(t.vp, REG_RBX, 0x40000);
    cpu_set_gpr(t.vp, REG_RAX, 7);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 11);
    cr_assert_eq(th_rd(&t, cpu_get_gpr(t.vp, REG_RSP), 4), 0x40);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 7);
    th_fini(&t);

    setup(&t, M32, 0, 0x47);
    /* lss esp, [ebx]; int3 */
    th_load(&t, TH_CODE, CODE(0x0f, 0xb2, 0x23, 0xcc));
    th_wr(&t, 0x40000, 0x70000, 4);
    th_wr(&t, 0x40004, 0x10, 2);
    cpu_set_gpr(t.vp, REG_RBX, 0x40000);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 3);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), 0x70000 - 12, "INT3 frame on the new stack");
    th_fini(&t);
}
