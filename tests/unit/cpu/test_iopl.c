/* IOPL and the I/O permission bitmap outside virtual-8086 mode (SDM Vol 1 19.5): IN/OUT/INS/OUTS
 * at CPL > IOPL (bitmap bytes spanning, the TSS limit, 16-bit TSS, page faults on the bitmap),
 * CLI/STI/POPF by CPL and IOPL, the STI interrupt shadow, HLT and PAUSE. */
#include <criterion/criterion.h>

#include "cpu/debug.h"
#include "cpu/vcpu.h"
#include "ring_harness.h"

#define C(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* TSS variants: the default (32/64-bit, whole bitmap inside the limit) or an override. */
struct tss_var {
    unsigned type;
    uint32_t limit;
    uint16_t iomap;
};
#define TSS_DEFAULT {0, 0, 0}

struct io_case {
    const char *name;
    enum rh_mode mode;
    unsigned cpl, iopl;
    bool ifl;
    struct tss_var tss;
    const uint8_t *code;
    size_t len;
    int vec;           /* expected exception (EXC_UD: ran to the closing UD2) */
    unsigned off;      /* offset of the instruction it is raised on */
    unsigned exits;    /* I/O exits made */
    uint64_t fl_mask, fl_want; /* pushed RFLAGS bits */
};

/* Ports 0x80-0x87 and 0x3f8 are allowed by the bitmap rh_boot builds (byte 0x10 at TSS offset
 * 0x78 is 0). */
static const struct io_case io_cases[] = {
    /* in al, 0x80; ud2 */
    {"in_allowed", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0xe4, 0x80, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0},
    {"in_denied", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0xe4, 0x88, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    {"in_denied_port_iopl3", RH_PM32, 3, 3, true, TSS_DEFAULT, C(0xe4, 0x88, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0},
    /* A word at 0x87 covers 0x87 (allowed, byte 0x10) and 0x88 (denied, byte 0x11). */
    {"word_spans_bytes", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0x66, 0xe5, 0x87, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    {"word_inside", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0x66, 0xe5, 0x86, 0x0f, 0x0b), EXC_UD, 3, 1, 0, 0},
    {"dword_inside", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0xe5, 0x84, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0},
    {"dword_one_port_denied", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0xe5, 0x85, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    /* mov dx, 0x3f8 / 0x3f9; in al, dx; ud2 */
    {"dx_allowed", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0x66, 0xba, 0xf8, 0x03, 0xec, 0x0f, 0x0b), EXC_UD, 5, 1, 0, 0},
    {"dx_denied", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0x66, 0xba, 0xf9, 0x03, 0xec, 0x0f, 0x0b), EXC_GP, 4, 0, 0, 0},
    {"out_allowed", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0xe6, 0x87, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0},
    /* mov dx, 0x80; mov esi, 0x40000; mov ecx, 3; rep outsb; ud2 */
    {"rep_outs_allowed", RH_PM32, 3, 0, true, TSS_DEFAULT,
     C(0x66, 0xba, 0x80, 0x00, 0xbe, 0x00, 0x00, 0x04, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0xf3, 0x6e, 0x0f, 0x0b),
     EXC_UD, 16, 3, 0, 0},
    /* mov dx, 0x88; mov edi, 0x40000; mov ecx, 3; rep insb: nothing transferred */
    {"rep_ins_denied", RH_PM32, 3, 0, true, TSS_DEFAULT,
     C(0x66, 0xba, 0x88, 0x00, 0xbf, 0x00, 0x00, 0x04, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0xf3, 0x6c, 0x0f, 0x0b),
     EXC_GP, 14, 0, 0, 0},
    /* The processor reads two bitmap bytes; both must be inside the TSS limit (byte 0x10 is at
     * TSS offset 0x78). */
    {"limit_second_byte_outside", RH_PM32, 3, 0, true, {0xb, 0x78, RH_IOMAP}, C(0xe4, 0x80, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    {"limit_both_bytes_inside", RH_PM32, 3, 0, true, {0xb, 0x79, RH_IOMAP}, C(0xe4, 0x80, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0},
    {"limit_first_byte_outside", RH_PM32, 3, 0, true, {0xb, 0x77, RH_IOMAP}, C(0xe4, 0x80, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    {"iomap_beyond_limit", RH_PM32, 3, 0, true, {0xb, 0x2068, 0xffff}, C(0xe4, 0x80, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    {"iomap_beyond_limit_iopl3", RH_PM32, 3, 3, true, {0xb, 0x2068, 0xffff}, C(0xe4, 0x80, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0},
    {"tss_16bit_no_bitmap", RH_PM32, 3, 0, true, {0x3, 0x2068, RH_IOMAP}, C(0xe4, 0x80, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    {"tss_limit_below_0x67", RH_PM32, 3, 0, true, {0xb, 0x60, RH_IOMAP}, C(0xe4, 0x80, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    {"ring0_not_consulted", RH_PM32, 0, 0, true, {0x3, 0x10, 0xffff}, C(0xe4, 0x88, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0},
    {"real_mode_not_consulted", RH_REAL, 0, 0, true, {0x3, 0x10, 0xffff}, C(0xe4, 0x88, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0},
    {"lm64_allowed", RH_LM64, 3, 0, true, TSS_DEFAULT, C(0xe5, 0x84, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0},
    {"lm64_word_spans_bytes", RH_LM64, 3, 0, true, TSS_DEFAULT, C(0x66, 0xe5, 0x87, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    {"compat_denied", RH_COMPAT, 3, 0, true, TSS_DEFAULT, C(0xe4, 0x88, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},

    /* CLI/STI: CPL <= IOPL in protected mode (no PVI), always in real mode. */
    {"cli_ring3_iopl0", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0xfa, 0x0f, 0x0b), EXC_GP, 0, 0, FL_IF, FL_IF},
    {"sti_ring3_iopl0", RH_PM32, 3, 0, false, TSS_DEFAULT, C(0xfb, 0x0f, 0x0b), EXC_GP, 0, 0, FL_IF, 0},
    {"cli_ring3_iopl3", RH_PM32, 3, 3, true, TSS_DEFAULT, C(0xfa, 0x0f, 0x0b), EXC_UD, 1, 0, FL_IF, 0},
    {"sti_ring3_iopl3", RH_PM32, 3, 3, false, TSS_DEFAULT, C(0xfb, 0x0f, 0x0b), EXC_UD, 1, 0, FL_IF, FL_IF},
    {"cli_lm64_ring3_iopl0", RH_LM64, 3, 0, true, TSS_DEFAULT, C(0xfa, 0x0f, 0x0b), EXC_GP, 0, 0, FL_IF, FL_IF},
    {"cli_ring0", RH_PM32, 0, 0, true, TSS_DEFAULT, C(0xfa, 0x0f, 0x0b), EXC_UD, 1, 0, FL_IF, 0},
    {"cli_real_iopl0", RH_REAL, 0, 0, true, TSS_DEFAULT, C(0xfa, 0x0f, 0x0b), EXC_UD, 1, 0, FL_IF, 0},

    /* POPF: IOPL only at CPL 0; IF only at CPL <= IOPL. push 0x3002; popfd; ud2 */
    {"popf_ring3_iopl0", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0x68, 0x02, 0x30, 0x00, 0x00, 0x9d, 0x0f, 0x0b),
     EXC_UD, 6, 0, FL_IOPL | FL_IF, FL_IF},
    {"popf_ring3_iopl3", RH_PM32, 3, 3, true, TSS_DEFAULT, C(0x68, 0x02, 0x30, 0x00, 0x00, 0x9d, 0x0f, 0x0b),
     EXC_UD, 6, 0, FL_IOPL | FL_IF, FL_IOPL},
    {"popf_ring3_iopl3_keeps_iopl", RH_PM32, 3, 3, true, TSS_DEFAULT, C(0x68, 0x02, 0x00, 0x00, 0x00, 0x9d, 0x0f, 0x0b),
     EXC_UD, 6, 0, FL_IOPL | FL_IF, FL_IOPL},
    {"popf_ring0", RH_PM32, 0, 0, true, TSS_DEFAULT, C(0x68, 0x02, 0x30, 0x00, 0x00, 0x9d, 0x0f, 0x0b),
     EXC_UD, 6, 0, FL_IOPL | FL_IF, FL_IOPL},
    /* push 0x3002; popf (16-bit) */
    {"popf_real", RH_REAL, 0, 0, true, TSS_DEFAULT, C(0x68, 0x02, 0x30, 0x9d, 0x0f, 0x0b),
     EXC_UD, 4, 0, FL_IOPL | FL_IF, FL_IOPL},

    /* PUSHF is IOPL-sensitive only in virtual-8086 mode. pushfd; pop eax */
    {"pushf_ring3_iopl0", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0x9c, 0x58, 0x0f, 0x0b), EXC_UD, 2, 0, 0, 0},
    {"pushf_lm64_ring3_iopl0", RH_LM64, 3, 0, true, TSS_DEFAULT, C(0x9c, 0x58, 0x0f, 0x0b), EXC_UD, 2, 0, 0, 0},
    {"hlt_ring3", RH_PM32, 3, 3, true, TSS_DEFAULT, C(0xf4, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0},
    {"pause_ring3", RH_PM32, 3, 0, true, TSS_DEFAULT, C(0xf3, 0x90, 0x0f, 0x0b), EXC_UD, 2, 0, 0, 0},
};

Test(cpu_iopl, io_and_flags_table)
{
    for (unsigned c = 0; c < ARRAY_SIZE(io_cases); c++) {
        const struct io_case *ic = &io_cases[c];
        struct th t;
        rh_boot(&t, ic->mode, ic->cpl, ic->iopl, ic->ifl, ic->code, ic->len);
        if (ic->tss.type)
            rh_set_tss(&t, ic->tss.type, ic->tss.limit, ic->tss.iomap);
        struct seg cs0;
        cpu_get_seg(t.vp, SEG_CS, &cs0);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", ic->name);
        cr_assert_eq(rh_vector(&t), ic->vec, "%s: vector %d", ic->name, rh_vector(&t));
        uint64_t ip0 = ic->mode == RH_REAL ? 0 : TH_CODE;
        cr_assert_eq(rh_frame(&t, 0), ip0 + ic->off, "%s: raised at %#llx", ic->name,
                     (unsigned long long)rh_frame(&t, 0));
        cr_assert_eq(rh_frame(&t, 1), cs0.sel, "%s: CS", ic->name);
        cr_assert_eq(t.reasons[EXIT_REASON_IO_INSTRUCTION], ic->exits, "%s: %u I/O exits", ic->name,
                     t.reasons[EXIT_REASON_IO_INSTRUCTION]);
        cr_assert_eq(rh_frame(&t, 2) & ic->fl_mask, ic->fl_want, "%s: RFLAGS %#llx", ic->name,
                     (unsigned long long)rh_frame(&t, 2));
        if (ic->vec == EXC_GP)
            cr_assert_eq(rh_errcode(&t), 0, "%s: #GP(0)", ic->name);
        th_fini(&t);
    }
}

Test(cpu_iopl, rep_ins_denied_leaves_registers)
{
    /* mov dx, 0x88; mov edi, 0x40000; mov ecx, 3; rep insb; ud2 */
    struct th t;
    rh_boot(&t, RH_PM32, 3, 0, true,
            C(0x66, 0xba, 0x88, 0x00, 0xbf, 0x00, 0x00, 0x04, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0xf3, 0x6c, 0x0f, 0x0b));
    th_wr(&t, 0x40000, 0x5a5a5a, 4);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(rh_vector(&t), EXC_GP);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RCX), 3);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RDI), 0x40000);
    cr_assert_eq(th_rd(&t, 0x40000, 4), 0x5a5a5a);
    th_fini(&t);
}

/* The bitmap is read with supervisor accesses: a page fault there is a #PF (CR2 = the bitmap
 * byte), not a #GP. The TSS ends its page-table mapping half-way: the 2 MiB page after it is
 * not present. */
Test(cpu_iopl, bitmap_page_fault)
{
    struct th t;
    rh_boot(&t, RH_LM64, 3, 0, true, C(0xe4, 0x80, 0x0f, 0x0b));
    const uint64_t hole = 0xe00000, base = hole - 0x100;
    th_wr(&t, 0x3000 + 8 * (hole >> 21), 0, 8);
    cpu_tlb_flush_all(t.vp, true);
    th_wr(&t, base + 4, RH_ESP0, 8);
    th_wr(&t, base + 0x66, 0x100, 2);
    struct seg tr = {RH_TSS, base, 0x100 + 0x2000, 0x8b};
    cpu_set_seg(t.vp, SEG_TR, &tr);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(rh_vector(&t), EXC_PF, "vector %d", rh_vector(&t));
    cr_assert_eq(cpu_get_cr(t.vp, 2), hole + 0x80 / 8);
    cr_assert_eq(rh_errcode(&t) & 1, 0, "not present");
    cr_assert_eq(rh_errcode(&t) & 4, 0, "a supervisor access");
    cr_assert_eq(rh_frame(&t, 0), TH_CODE);
    cr_assert_eq(t.reasons[EXIT_REASON_IO_INSTRUCTION], 0);
    th_fini(&t);
}

/* SDM STI: the shadow is set only when STI changes IF from 0 to 1, so a second STI does not
 * extend it. A pending interrupt is taken before the instruction after the shadowed one. */
struct shadow_case {
    const char *name;
    const uint8_t *code;
    size_t len;
    unsigned ret_off; /* return address pushed by the interrupt */
    uint64_t eax;
};

static const struct shadow_case shadow_cases[] = {
    /* sti; mov eax, 1; mov ebx, 2; hlt */
    {"one_sti", C(0xfb, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xbb, 0x02, 0x00, 0x00, 0x00, 0xf4), 6, 1},
    /* sti; sti; mov eax, 1; hlt */
    {"sti_sti", C(0xfb, 0xfb, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4), 2, 0},
};

Test(cpu_iopl, sti_shadow_table)
{
    for (unsigned c = 0; c < ARRAY_SIZE(shadow_cases); c++) {
        const struct shadow_case *sc = &shadow_cases[c];
        struct th t;
        rh_boot(&t, RH_PM32, 0, 0, false, sc->code, sc->len);
        cpu_raise_event(t.vp, CPU_EV_INTR);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", sc->name);
        cr_assert_eq(rh_vector(&t), 0x40, "%s: vector %d", sc->name, rh_vector(&t));
        cr_assert_eq(rh_frame(&t, 0), TH_CODE + sc->ret_off, "%s: return %#llx", sc->name,
                     (unsigned long long)rh_frame(&t, 0));
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), sc->eax, "%s: eax", sc->name);
        th_fini(&t);
    }
}

/* I/O breakpoints (CR4.DE, DR7 R/W = 10b) are checked for every port access after the
 * permission checks: a #DB trap after the instruction (after the iteration for REP INS/OUTS),
 * none when the access was denied or another port was used. DR0 = 0x80, one byte. */
struct iobp_case {
    const char *name;
    unsigned cpl;
    bool de;
    const uint8_t *code;
    size_t len;
    int vec;
    unsigned off;  /* pushed RIP offset */
    unsigned exits;
    uint64_t rcx;  /* RCX at the trap (REP cases), ~0: not checked */
};

static const struct iobp_case iobp_cases[] = {
    {"out_hit", 0, true, C(0xe6, 0x80, 0x0f, 0x0b), EXC_DB, 2, 1, ~0ull},
    {"in_other_port", 0, true, C(0xe4, 0x81, 0x0f, 0x0b), EXC_UD, 2, 1, ~0ull},
    {"word_covers_port", 0, true, C(0x66, 0xe5, 0x7f, 0x0f, 0x0b), EXC_DB, 3, 1, ~0ull},
    {"no_cr4_de", 0, false, C(0xe6, 0x80, 0x0f, 0x0b), EXC_UD, 2, 1, ~0ull},
    /* mov dx, 0x80; mov ecx, 3; mov edi, 0x40000; rep insb: trap after the first element */
    {"rep_ins_first_iteration", 0, true,
     C(0x66, 0xba, 0x80, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x04, 0x00, 0xf3, 0x6c, 0x0f, 0x0b),
     EXC_DB, 14, 1, 2},
    /* mov dx, 0x80; mov ecx, 3; mov rsi, 0x40000; rep outsb */
    {"rep_outs_first_iteration", 0, true,
     C(0x66, 0xba, 0x80, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc6, 0x00, 0x00, 0x04, 0x00, 0xf3, 0x6e,
       0x0f, 0x0b),
     EXC_DB, 16, 1, 2},
    /* ring 3, IOPL 0: port 0x88 is denied by the bitmap: #GP, no breakpoint */
    {"denied_no_hit", 3, true, C(0xe4, 0x88, 0x0f, 0x0b), EXC_GP, 0, 0, ~0ull},
};

Test(cpu_iopl, io_breakpoint_table)
{
    for (unsigned c = 0; c < ARRAY_SIZE(iobp_cases); c++) {
        const struct iobp_case *ic = &iobp_cases[c];
        struct th t;
        rh_boot(&t, RH_LM64, ic->cpl, 0, false, ic->code, ic->len);
        if (ic->de)
            cpu_set_cr(t.vp, 4, cpu_get_cr(t.vp, 4) | CR4_DE);
        uint64_t port = ic->cpl ? 0x88 : 0x80;
        t.vp->dr[0] = port;
        t.vp->dr[7] = 0x400 | 1 | (uint64_t)DR_RW_IO << 16;
        dbg_update(t.vp);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", ic->name);
        cr_assert_eq(rh_vector(&t), ic->vec, "%s: vector %d", ic->name, rh_vector(&t));
        cr_assert_eq(rh_frame(&t, 0), TH_CODE + ic->off, "%s: rip %#llx", ic->name,
                     (unsigned long long)rh_frame(&t, 0));
        cr_assert_eq(t.reasons[EXIT_REASON_IO_INSTRUCTION], ic->exits, "%s: exits", ic->name);
        cr_assert_eq(t.vp->dr[6] & 1, ic->vec == EXC_DB ? 1 : 0, "%s: DR6.B0", ic->name);
        if (ic->rcx != ~0ull)
            cr_assert_eq(cpu_get_gpr(t.vp, REG_RCX), ic->rcx, "%s: rcx", ic->name);
        th_fini(&t);
    }
}
