/* Virtual-8086 mode without VME (SDM Vol 3 20.2): the IOPL-sensitive instructions (CLI, STI,
 * PUSHF, POPF, INT n) at IOPL 0 and 3, I/O through the TSS bitmap regardless of IOPL,
 * privileged instructions, real-mode style segment loads, and SYSENTER out of V86. Each
 * program runs at RH_V86_CS:0 after an IRETD from ring 0 and ends in a UD2 (#UD) or faults;
 * the ring-0 handler's frame tells where and with which flags. */
#include <criterion/criterion.h>

#include "cpu/vcpu.h"
#include "ring_harness.h"

#define C(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

struct reg_want {
    unsigned reg; /* REG_* + 1; 0: none */
    uint64_t mask, want;
};

struct v86_case {
    const char *name;
    unsigned iopl;
    bool ifl;
    const uint8_t *code;
    size_t len;
    int vec;        /* expected exception (EXC_UD: ran to the closing UD2) */
    unsigned ip;    /* IP pushed by it */
    unsigned exits; /* I/O exits */
    uint64_t fl_mask, fl_want; /* pushed EFLAGS bits (VM always checked) */
    uint32_t sp;    /* pushed SP, 0: not checked */
    struct reg_want r[2];
    uint16_t iomap; /* 0: the default bitmap */
};

#define R(reg, mask, want) {REG_##reg + 1, mask, want}
#define NO_REG {0, 0, 0}
#define NO_R {NO_REG, NO_REG}

static const struct v86_case v86_cases[] = {
    /* IOPL-sensitive instructions at IOPL 0: #GP(0), nothing changed. */
    {"cli_iopl0", 0, true, C(0xfa, 0x0f, 0x0b), EXC_GP, 0, 0, FL_IF, FL_IF, 0xfffe, NO_R, 0},
    {"sti_iopl0", 0, false, C(0xfb, 0x0f, 0x0b), EXC_GP, 0, 0, FL_IF, 0, 0xfffe, NO_R, 0},
    {"pushf_iopl0", 0, true, C(0x9c, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0, 0xfffe, NO_R, 0},
    {"pushfd_iopl0", 0, true, C(0x66, 0x9c, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0, 0xfffe, NO_R, 0},
    {"popf_iopl0", 0, true, C(0x9d, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0, 0xfffe, NO_R, 0},
    {"popfd_iopl0", 0, true, C(0x66, 0x9d, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0, 0xfffe, NO_R, 0},
    {"int_n_iopl0", 0, true, C(0xcd, 0x21, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0, 0xfffe, NO_R, 0},
    /* INT3 and INTO are not IOPL-sensitive. */
    {"int3_iopl0", 0, true, C(0xcc, 0x0f, 0x0b), EXC_BP, 1, 0, 0, 0, 0xfffe, NO_R, 0},
    {"into_iopl0_no_overflow", 0, true, C(0xce, 0x0f, 0x0b), EXC_UD, 1, 0, 0, 0, 0xfffe, NO_R, 0},

    /* At IOPL 3 they behave as in real mode. */
    {"cli_iopl3", 3, true, C(0xfa, 0x0f, 0x0b), EXC_UD, 1, 0, FL_IF, 0, 0xfffe, NO_R, 0},
    {"sti_iopl3", 3, false, C(0xfb, 0x0f, 0x0b), EXC_UD, 1, 0, FL_IF, FL_IF, 0xfffe, NO_R, 0},
    /* pushf; pop ax; pushfd; pop ebx: IOPL 3 visible, VM and RF never pushed */
    {"pushf_iopl3", 3, false, C(0x9c, 0x58, 0x66, 0x9c, 0x66, 0x5b, 0x0f, 0x0b), EXC_UD, 6, 0, 0, 0, 0xfffe,
     {R(RAX, 0xffff, 0x3002), R(RBX, ~0ull, 0x3002)}, 0},
    /* push 0; push 2; popfd: tries to clear VM and IOPL; only IF changes */
    {"popfd_iopl3_keeps_vm_iopl", 3, true, C(0x6a, 0x00, 0x6a, 0x02, 0x66, 0x9d, 0x0f, 0x0b), EXC_UD, 6, 0,
     FL_IF | FL_IOPL, FL_IOPL, 0xfffe, NO_R, 0},
    /* push 2; popf */
    {"popf_iopl3_keeps_iopl", 3, true, C(0x6a, 0x02, 0x9d, 0x0f, 0x0b), EXC_UD, 3, 0, FL_IF | FL_IOPL, FL_IOPL, 0xfffe, NO_R, 0},
    {"int_n_iopl3", 3, true, C(0xcd, 0x21, 0x0f, 0x0b), 0x21, 2, 0, 0, 0, 0xfffe, NO_R, 0},

    /* Privileged instructions: #GP(0) at any IOPL (CPL is 3). */
    {"hlt", 3, true, C(0xf4), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"mov_from_cr0", 3, true, C(0x0f, 0x20, 0xc0), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"mov_to_cr0", 3, true, C(0x0f, 0x22, 0xc0), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"lgdt", 3, true, C(0x0f, 0x01, 0x16, 0x00, 0x00), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"lidt", 3, true, C(0x0f, 0x01, 0x1e, 0x00, 0x00), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"mov_to_dr7", 3, true, C(0x0f, 0x23, 0xf8), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"rdmsr", 3, true, C(0x0f, 0x32), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"wrmsr", 3, true, C(0x0f, 0x30), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"clts", 3, true, C(0x0f, 0x06), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"lmsw", 3, true, C(0x0f, 0x01, 0xf0), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"invlpg", 3, true, C(0x0f, 0x01, 0x3e, 0x00, 0x00), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"wbinvd", 3, true, C(0x0f, 0x09), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"sysexit", 3, true, C(0x0f, 0x35), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    /* Not recognised in virtual-8086 mode. */
    {"lar", 3, true, C(0x0f, 0x02, 0xc3), EXC_UD, 0, 0, 0, 0, 0, NO_R, 0},
    {"verr", 3, true, C(0x0f, 0x00, 0xe0), EXC_UD, 0, 0, 0, 0, 0, NO_R, 0},
    {"syscall", 3, true, C(0x0f, 0x05), EXC_UD, 0, 0, 0, 0, 0, NO_R, 0},
    /* SMSW is not privileged: AX = CR0[15:0] (PE|ET) */
    {"smsw", 0, true, C(0x0f, 0x01, 0xe0, 0x0f, 0x0b), EXC_UD, 3, 0, 0, 0, 0, {R(RAX, 0xffff, 0x11), NO_REG}, 0},

    /* mov ax, 0x1234; mov ds, ax; mov bx, [0x10]; mov cx, ds: base = selector << 4 */
    {"segment_load", 0, true, C(0xb8, 0x34, 0x12, 0x8e, 0xd8, 0x8b, 0x1e, 0x10, 0x00, 0x8c, 0xd9, 0x0f, 0x0b),
     EXC_UD, 11, 0, 0, 0, 0, {R(RBX, 0xffff, 0xbeef), R(RCX, 0xffff, 0x1234)}, 0},

    /* I/O always goes through the bitmap (ports 0x80-0x87 allowed), whatever IOPL is. */
    {"in_allowed_iopl0", 0, true, C(0xe4, 0x80, 0x0f, 0x0b), EXC_UD, 2, 1, 0, 0, 0, NO_R, 0},
    {"in_denied_iopl3", 3, true, C(0xe4, 0x88, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    {"out_denied_iopl3", 3, true, C(0xe6, 0x90, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0},
    /* mov dx, 0x80; mov di, 0x100; mov cx, 3; rep insb */
    {"rep_insb_allowed", 0, true, C(0xba, 0x80, 0x00, 0xbf, 0x00, 0x01, 0xb9, 0x03, 0x00, 0xf3, 0x6c, 0x0f, 0x0b),
     EXC_UD, 11, 3, 0, 0, 0, {R(RDI, 0xffff, 0x103), R(RCX, 0xffff, 0)}, 0},
    /* mov dx, 0x87; mov si, 0x100; outsw: ports 0x87 and 0x88 span two bitmap bytes */
    {"outsw_spans_denied", 3, true, C(0xba, 0x87, 0x00, 0xbe, 0x00, 0x01, 0x6f, 0x0f, 0x0b), EXC_GP, 6, 0, 0, 0, 0, NO_R, 0},
    {"no_bitmap_iopl3", 3, true, C(0xe4, 0x80, 0x0f, 0x0b), EXC_GP, 0, 0, 0, 0, 0, NO_R, 0xffff},
};

Test(cpu_v86, instruction_table)
{
    for (unsigned c = 0; c < ARRAY_SIZE(v86_cases); c++) {
        const struct v86_case *vc = &v86_cases[c];
        struct th t;
        rh_boot_v86(&t, vc->iopl, vc->ifl, vc->code, vc->len);
        th_wr(&t, 0x12340 + 0x10, 0xbeef, 2);
        if (vc->iomap)
            rh_set_tss(&t, 0xb, RH_IOMAP + 0x2000, vc->iomap);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", vc->name);
        cr_assert_eq(rh_vector(&t), vc->vec, "%s: vector %d", vc->name, rh_vector(&t));
        cr_assert_eq(cpu_get_cpl(t.vp), 0, "%s", vc->name);
        cr_assert_eq(rh_frame(&t, 0), vc->ip, "%s: IP %#llx", vc->name, (unsigned long long)rh_frame(&t, 0));
        cr_assert_eq(rh_frame(&t, 1), RH_V86_CS, "%s: CS", vc->name);
        uint64_t fl = rh_frame(&t, 2);
        cr_assert_eq(fl & (FL_VM | vc->fl_mask), FL_VM | vc->fl_want, "%s: EFLAGS %#llx", vc->name,
                     (unsigned long long)fl);
        cr_assert_eq((fl & FL_IOPL) >> 12, vc->iopl, "%s: IOPL", vc->name);
        if (vc->sp)
            cr_assert_eq(rh_frame(&t, 3), vc->sp, "%s: SP %#llx", vc->name, (unsigned long long)rh_frame(&t, 3));
        cr_assert_eq(rh_frame(&t, 4), RH_V86_SS, "%s: SS", vc->name);
        if (vc->vec == EXC_GP)
            cr_assert_eq(rh_errcode(&t), 0, "%s: #GP(0)", vc->name);
        cr_assert_eq(t.reasons[EXIT_REASON_IO_INSTRUCTION], vc->exits, "%s: %u I/O exits", vc->name,
                     t.reasons[EXIT_REASON_IO_INSTRUCTION]);
        for (unsigned k = 0; k < 2; k++) {
            const struct reg_want *r = &vc->r[k];
            if (r->reg)
                cr_assert_eq(cpu_get_gpr(t.vp, r->reg - 1) & r->mask, r->want, "%s: reg %u = %#llx", vc->name,
                             r->reg - 1, (unsigned long long)cpu_get_gpr(t.vp, r->reg - 1));
        }
        th_fini(&t);
    }
}

/* The IRETD into V86 and the 16-bit code that follows: segments are real-mode style. */
Test(cpu_v86, iret_enters_v86)
{
    /* mov ax, ss; jmp $ */
    struct th t;
    rh_boot_v86(&t, 3, false, C(0x8c, 0xd0, 0xeb, 0xfe));
    cr_assert_eq(th_run(&t, 10), CPU_STOP_BUDGET);
    cr_assert_eq(cpu_get_rflags(t.vp) & (FL_VM | FL_IOPL), FL_VM | FL_IOPL);
    cr_assert_eq(cpu_get_cpl(t.vp), 3);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX) & 0xffff, RH_V86_SS);
    static const unsigned segs[] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES};
    static const uint16_t sels[] = {RH_V86_CS, RH_V86_SS, RH_V86_DS, RH_V86_DS};
    for (unsigned k = 0; k < 4; k++) {
        struct seg s;
        cpu_get_seg(t.vp, segs[k], &s);
        cr_assert_eq(s.sel, sels[k]);
        cr_assert_eq(s.base, (uint64_t)sels[k] << 4, "segment %u base %#llx", segs[k], (unsigned long long)s.base);
        cr_assert_eq(s.limit, 0xffff);
    }
    cr_assert_eq(cpu_get_rip(t.vp), 2);
    th_fini(&t);
}

/* SYSENTER leaves V86 for flat 32-bit ring 0 with VM and IF clear. */
Test(cpu_v86, sysenter_leaves_v86)
{
    struct th t;
    rh_boot_v86(&t, 0, true, C(0x0f, 0x34));
    t.vp->sysenter_cs = RH_KCS;
    t.vp->sysenter_eip = TH_CODE + 0x200;
    t.vp->sysenter_esp = RH_ESP0;
    th_wr(&t, TH_CODE + 0x200, 0xf4, 1);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), TH_CODE + 0x201);
    cr_assert_eq(cpu_get_rflags(t.vp) & (FL_VM | FL_IF), 0);
    cr_assert_eq(cpu_get_cpl(t.vp), 0);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), RH_ESP0);
    struct seg cs;
    cpu_get_seg(t.vp, SEG_CS, &cs);
    cr_assert_eq(cs.sel, RH_KCS);
    cr_assert_eq(cs.attr, 0xc09b);
    th_fini(&t);
}
