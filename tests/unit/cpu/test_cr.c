/* MOV to/from control registers, LMSW and CLTS in every mode: the reserved-bit and
 * illegal-combination faults of SDM Vol 3 2.5 and 10.8 (CR0, CR3, CR4 by what CPUID advertises,
 * CR8 only in 64-bit mode), the values left behind, IA-32e activation and deactivation; and the
 * state cpu_reset and cpu_reset_init leave (SDM Vol 3 Table 10-1). One table, one loop. */
#include <criterion/criterion.h>

#include <string.h>

#include "harness.h"

enum cr_mode {
    M16,     /* real mode */
    M32,     /* 32-bit protected mode, paging off */
    M32_16,  /* 16-bit protected mode whose CS has L set (legacy mode ignores it) */
    M_PAE,   /* 32-bit protected mode, PAE paging */
    M_COMPAT,/* IA-32e compatibility mode */
    M64,     /* 64-bit mode, CPL 0 */
    M64_U,   /* 64-bit mode, CPL 3 */
};

/* What to read back after the run. */
enum cr_out { O_NONE, O_CR0, O_CR3, O_CR4, O_EFER, O_RAX, O_CR8_EXIT /* CR-access exits */ };

/* A CR4 bit whose writability follows a CPUID feature flag (leaf 0: none, fixed outcome). */
struct feature {
    uint32_t leaf;
    uint8_t reg, bit;
};

struct cr_case {
    const char *name;
    enum cr_mode mode;
    uint64_t cr0_or, cr4_or, cr3; /* added to the mode's CR0/CR4; CR3 if non-zero */
    uint64_t rax;
    uint8_t code[8];              /* "hlt" is appended */
    unsigned len;
    int vector;                   /* expected exception, -1 none */
    enum cr_out out;
    uint64_t want;                /* value of out when no exception */
    struct feature feat;          /* if leaf: vector is #GP exactly when the feature is absent */
};

#define MOV_CR0_RAX 0x0f, 0x22, 0xc0
#define MOV_CR3_RAX 0x0f, 0x22, 0xd8
#define MOV_CR4_RAX 0x0f, 0x22, 0xe0
#define MOV_RAX_CR0 0x0f, 0x20, 0xc0
#define MOV_RAX_CR4 0x0f, 0x20, 0xe0
#define REX_W 0x48
#define REX_R 0x44

enum { GP = 13, UD = 6 };
enum { EBX_ = 1, ECX_ = 2, EDX_ = 3 };

#define CR0_64 0x80000011ull /* th_mode64: PG, ET, PE */
#define CR4_64 0x620ull      /* th_mode64: PAE, OSFXSR, OSXMMEXCPT */
#define EFER_64 0xd01ull     /* th_mode64: NXE, LMA, LME, SCE */

static const struct cr_case cases[] = {
    /* CR0 */
    {"cr0_high_bit_gp", M64, 0, 0, 0, 0x180000011ull, {REX_W, MOV_CR0_RAX}, 4, GP, O_CR0, 0, {0}},
    {"cr0_reserved_low_bits_dropped", M64, 0, 0, 0, CR0_64 | 0x1ffaffc0ull, {REX_W, MOV_CR0_RAX}, 4,
     -1, O_CR0, CR0_64, {0}},
    {"cr0_et_hardwired", M64, 0, 0, 0, 0x80000001ull, {REX_W, MOV_CR0_RAX}, 4, -1, O_CR0, CR0_64, {0}},
    {"cr0_cd_nw_together", M64, 0, 0, 0, CR0_64 | 0x60000000ull, {REX_W, MOV_CR0_RAX}, 4, -1, O_CR0,
     CR0_64 | 0x60000000ull, {0}},
    {"cr0_nw_without_cd_gp", M64, 0, 0, 0, CR0_64 | 0x20000000ull, {REX_W, MOV_CR0_RAX}, 4, GP, O_CR0,
     0, {0}},
    {"cr0_clear_pg_in_64bit_gp", M64, 0, 0, 0, 0x11, {REX_W, MOV_CR0_RAX}, 4, GP, O_CR0, 0, {0}},
    {"cr0_read_64bit", M64, 0x20, 0, 0, 0, {REX_W, MOV_RAX_CR0}, 4, -1, O_RAX, CR0_64 | 0x20, {0}},
    {"cr0_pg_without_pe_real_gp", M16, 0, 0, 0, 0x80000010ull, {MOV_CR0_RAX}, 3, GP, O_CR0, 0, {0}},
    {"cr0_pe_from_real", M16, 0, 0, 0, 0x11, {MOV_CR0_RAX}, 3, -1, O_CR0, 0x11, {0}},
    {"cr0_pg_lme_without_pae_gp", M32, 0, 0, 0, 0x80000011ull, {MOV_CR0_RAX}, 3, GP, O_CR0, 0, {0}},
    {"cr0_pg_lme_pae_sets_lma", M32, 0, 0x20, 0x1000, 0x80000011ull, {MOV_CR0_RAX}, 3, -1, O_EFER,
     0x500, {0}},
    {"cr0_pg_lme_with_cs_l_gp", M32_16, 0, 0x20, 0x1000, 0x80000011ull, {MOV_CR0_RAX}, 3, GP, O_EFER,
     0, {0}},
    {"cr0_pg_off_in_compat_clears_lma", M_COMPAT, 0, 0, 0, 0x11, {MOV_CR0_RAX}, 3, -1, O_EFER,
     EFER_64 & ~0x400ull, {0}},
    {"cr0_pg_off_with_pcide_gp", M_COMPAT, 0, 0x20000, 0, 0x11, {MOV_CR0_RAX}, 3, GP, O_EFER, 0, {0}},
    {"cr0_cpl3_gp", M64_U, 0, 0, 0, CR0_64, {REX_W, MOV_CR0_RAX}, 4, GP, O_NONE, 0, {0}},
    {"cr0_read_cpl3_gp", M64_U, 0, 0, 0, 0, {REX_W, MOV_RAX_CR0}, 4, GP, O_NONE, 0, {0}},

    /* CR4 */
    {"cr4_clear_pae_in_long_mode_gp", M64, 0, 0, 0, 0x600, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4, 0, {0}},
    {"cr4_bit15_gp", M64, 0, 0, 0, CR4_64 | 1u << 15, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4, 0, {0}},
    {"cr4_bit32_gp", M64, 0, 0, 0, CR4_64 | 1ull << 32, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4, 0, {0}},
    {"cr4_vmxe_by_cpuid", M64, 0, 0, 0, CR4_64 | 1u << 13, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4,
     CR4_64 | 1u << 13, {1, ECX_, 5}},
    {"cr4_smxe_by_cpuid", M64, 0, 0, 0, CR4_64 | 1u << 14, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4,
     CR4_64 | 1u << 14, {1, ECX_, 6}},
    {"cr4_pke_by_cpuid", M64, 0, 0, 0, CR4_64 | 1u << 22, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4,
     CR4_64 | 1u << 22, {7, ECX_, 3}},
    {"cr4_cet_by_cpuid", M64, 0, 0, 0, CR4_64 | 1u << 23, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4,
     CR4_64 | 1u << 23, {7, ECX_, 7}},
    {"cr4_vme_by_cpuid", M32, 0, 0, 0, 0x601, {MOV_CR4_RAX}, 3, GP, O_CR4, 0x601, {1, EDX_, 1}},
    {"cr4_mce_by_cpuid", M32, 0, 0, 0, 0x640, {MOV_CR4_RAX}, 3, GP, O_CR4, 0x640, {1, EDX_, 7}},
    {"cr4_umip_by_cpuid", M64, 0, 0, 0, CR4_64 | 1u << 11, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4,
     CR4_64 | 1u << 11, {7, ECX_, 2}},
    {"cr4_osxsave_by_cpuid", M64, 0, 0, 0, CR4_64 | 1u << 18, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4,
     CR4_64 | 1u << 18, {1, ECX_, 26}},
    {"cr4_smep_by_cpuid", M64, 0, 0, 0, CR4_64 | 1u << 20, {REX_W, MOV_CR4_RAX}, 4, GP, O_CR4,
     CR4_64 | 1u << 20, {7, EBX_, 7}},
    {"cr4_pce_always", M32, 0, 0, 0, 0x700, {MOV_CR4_RAX}, 3, -1, O_CR4, 0x700, {0}},
    {"cr4_la57_toggle_in_long_mode_gp", M64, 0, 0, 0, CR4_64 | 1u << 12, {REX_W, MOV_CR4_RAX}, 4, GP,
     O_CR4, 0, {0}},
    {"cr4_pcide_outside_long_mode_gp", M32, 0, 0, 0, 0x20620, {MOV_CR4_RAX}, 3, GP, O_CR4, 0, {0}},
    {"cr4_pcide_cr3_low_bits_gp", M64, 0, 0, 0x1001, CR4_64 | 0x20000, {REX_W, MOV_CR4_RAX}, 4, GP,
     O_CR4, 0, {0}},
    {"cr4_pcide_ok", M64, 0, 0, 0, CR4_64 | 0x20000, {REX_W, MOV_CR4_RAX}, 4, -1, O_CR4,
     CR4_64 | 0x20000, {0}},
    {"cr4_read", M32, 0, 0x80, 0, 0, {MOV_RAX_CR4}, 3, -1, O_RAX, 0x680, {0}},

    /* CR3 */
    {"cr3_bit52_in_long_mode_gp", M64, 0, 0, 0, 0x1000 | 1ull << 52, {REX_W, MOV_CR3_RAX}, 4, GP, O_CR3,
     0x1000, {0}},
    {"cr3_bit63_without_pcide_gp", M64, 0, 0, 0, 0x1000 | 1ull << 63, {REX_W, MOV_CR3_RAX}, 4, GP, O_CR3,
     0x1000, {0}},
    {"cr3_pwt_pcd_kept", M64, 0, 0, 0, 0x1018, {REX_W, MOV_CR3_RAX}, 4, -1, O_CR3, 0x1018, {0}},
    {"cr3_pae_bad_pdpte_gp", M_PAE, 0, 0, 0, 0x4100, {MOV_CR3_RAX}, 3, GP, O_CR3, 0x4000, {0}},
    {"cr3_pae_good_pdpt", M_PAE, 0, 0, 0, 0x4000, {MOV_CR3_RAX}, 3, -1, O_CR3, 0x4000, {0}},

    /* CR8: the TPR, 64-bit mode only; bits 63:4 reserved. */
    {"cr8_write_exits", M64, 0, 0, 0, 0x9, {REX_R, MOV_CR0_RAX}, 4, -1, O_CR8_EXIT, 1, {0}},
    {"cr8_reserved_gp", M64, 0, 0, 0, 0x10, {REX_R, MOV_CR0_RAX}, 4, GP, O_CR8_EXIT, 0, {0}},
    {"cr8_lock_outside_64bit_ud", M32, 0, 0, 0, 0x1, {0xf0, MOV_CR0_RAX}, 4, UD, O_NONE, 0, {0}},

    /* Control registers that do not exist. */
    {"cr1_ud", M64, 0, 0, 0, 0, {0x0f, 0x22, 0xc8}, 3, UD, O_NONE, 0, {0}},
    {"cr5_ud", M64, 0, 0, 0, 0, {0x0f, 0x22, 0xe8}, 3, UD, O_NONE, 0, {0}},
    {"cr9_ud", M64, 0, 0, 0, 0, {REX_R, 0x0f, 0x22, 0xc8}, 4, UD, O_NONE, 0, {0}},
    {"cr5_cpl3_ud_before_gp", M64_U, 0, 0, 0, 0, {0x0f, 0x22, 0xe8}, 3, UD, O_NONE, 0, {0}},
    {"cr6_read_ud", M64, 0, 0, 0, 0, {0x0f, 0x20, 0xf0}, 3, UD, O_NONE, 0, {0}},

    /* LMSW: MP, EM, TS and PE from the operand; PE can be set, never cleared. */
    {"lmsw_sets_low_bits", M32, 0, 0, 0, 0xe, {0x0f, 0x01, 0xf0}, 3, -1, O_CR0, 0x1f, {0}},
    {"lmsw_cannot_clear_pe", M32, 0xe, 0, 0, 0x0, {0x0f, 0x01, 0xf0}, 3, -1, O_CR0, 0x11, {0}},
    {"lmsw_ignores_high_bits", M32, 0, 0, 0, 0xfff0, {0x0f, 0x01, 0xf0}, 3, -1, O_CR0, 0x11, {0}},
    {"lmsw_enters_protected_mode", M16, 0, 0, 0, 0x1, {0x0f, 0x01, 0xf0}, 3, -1, O_CR0, 0x11, {0}},
    {"lmsw_cpl3_gp", M64_U, 0, 0, 0, 0x1, {0x0f, 0x01, 0xf0}, 3, GP, O_NONE, 0, {0}},

    /* CLTS */
    {"clts_clears_ts", M32, 0x8, 0, 0, 0, {0x0f, 0x06}, 2, -1, O_CR0, 0x11, {0}},
    {"clts_real_mode", M16, 0x8, 0, 0, 0, {0x0f, 0x06}, 2, -1, O_CR0, 0x10, {0}},
    {"clts_cpl3_gp", M64_U, 0x8, 0, 0, 0, {0x0f, 0x06}, 2, GP, O_CR0, 0, {0}},
};

static void idt32(struct th *t)
{
    for (uint64_t v = 0; v < 32; v++) {
        uint64_t h = TH_HANDLER + 16 * v;
        th_wr(t, h, 0xf4, 1);
        th_wr(t, TH_IDT + 8 * v, (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | (h >> 16) << 48, 8);
    }
    struct dtr d = {TH_IDT, 8 * 32 - 1};
    cpu_set_dtr(t->vp, true, &d);
}

static void ivt(struct th *t)
{
    for (uint64_t v = 0; v < 32; v++) {
        uint64_t h = TH_HANDLER + 16 * v;
        th_wr(t, h, 0xf4, 1);
        th_wr(t, 4 * v, h, 4); /* segment 0 */
    }
}

static void setup(struct th *t, const struct cr_case *c)
{
    switch (c->mode) {
    case M16:
        th_mode16(t);
        ivt(t);
        break;
    case M32:
    case M32_16:
    case M_PAE:
        th_mode32(t);
        idt32(t);
        /* PAE tables: PDPT 0x4000 -> PD 0x3000 of 2 MiB pages; a PDPT at 0x4100 whose first
         * entry has reserved bit 1 set. Long-mode tables for M32 cases as th_mode64's. */
        th_wr(t, 0x1000, 0x2000 | 3, 8);
        th_wr(t, 0x2000, 0x3000 | 3, 8);
        for (uint64_t k = 0; k < 512; k++)
            th_wr(t, 0x3000 + 8 * k, (k << 21) | 0x83, 8);
        th_wr(t, 0x4000, 0x3000 | 1, 8);
        th_wr(t, 0x4100, 0x3000 | 3, 8);
        if (c->mode == M_PAE) {
            cpu_set_cr(t->vp, 4, cpu_get_cr(t->vp, 4) | 0x20);
            cpu_set_cr(t->vp, 3, 0x4000);
            cpu_set_cr(t->vp, 0, cpu_get_cr(t->vp, 0) | 0x80000000u);
        } else {
            cpu_set_efer(t->vp, 0x100); /* LME: paging on would enter IA-32e mode */
        }
        if (c->mode == M32_16) {
            struct seg cs = {0x08, 0, 0xffffffff, 0xa09b};
            cpu_set_seg(t->vp, SEG_CS, &cs);
        }
        break;
    case M_COMPAT:
    case M64:
    case M64_U:
        th_mode64(t);
        th_idt64(t);
        if (c->mode == M_COMPAT) {
            struct seg cs = {0x20, 0, 0xffffffff, 0xc09b};
            cpu_set_seg(t->vp, SEG_CS, &cs);
        }
        if (c->mode == M64_U) {
            th_user_pages(t);
            th_wr(t, 0x9004, TH_STACK, 8); /* TSS.RSP0 */
            struct seg cs = {0x2b, 0, 0xffffffff, 0xa0fb}, ss = {0x33, 0, 0xffffffff, 0xc0f3};
            cpu_set_seg(t->vp, SEG_CS, &cs);
            cpu_set_seg(t->vp, SEG_SS, &ss);
            cpu_set_gpr(t->vp, REG_RSP, TH_STACK - 0x1000);
        }
        break;
    }
    if (c->cr0_or)
        cpu_set_cr(t->vp, 0, cpu_get_cr(t->vp, 0) | c->cr0_or);
    if (c->cr4_or)
        cpu_set_cr(t->vp, 4, cpu_get_cr(t->vp, 4) | c->cr4_or);
    if (c->cr3)
        cpu_set_cr(t->vp, 3, c->cr3);
}

static int expected_vector(struct th *t, const struct cr_case *c)
{
    if (!c->feat.leaf)
        return c->vector;
    uint32_t r[4];
    cpu_cpuid_default(t->vp, c->feat.leaf, 0, r);
    return ((r[c->feat.reg] >> c->feat.bit) & 1) ? -1 : c->vector;
}

static uint64_t read_out(struct th *t, enum cr_out o)
{
    switch (o) {
    case O_CR0: return cpu_get_cr(t->vp, 0);
    case O_CR3: return cpu_get_cr(t->vp, 3);
    case O_CR4: return cpu_get_cr(t->vp, 4);
    case O_EFER: return cpu_get_efer(t->vp);
    case O_RAX: return cpu_get_gpr(t->vp, REG_RAX);
    case O_CR8_EXIT: /* the write goes to the hypervisor (the TPR lives in the LAPIC) */
        return t->reasons[EXIT_REASON_CR_ACCESS];
    case O_NONE: break;
    }
    return 0;
}

Test(cpu_cr, table)
{
    for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
        const struct cr_case *c = &cases[k];
        struct th t;
        th_init(&t);
        setup(&t, c);
        uint8_t code[16];
        memcpy(code, c->code, c->len);
        code[c->len] = 0xf4;
        th_load(&t, TH_CODE, code, c->len + 1u);
        cpu_set_gpr(t.vp, REG_RAX, c->rax);
        uint64_t before = read_out(&t, c->out);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s: did not halt", c->name);
        int want_vec = expected_vector(&t, c);
        int vec = th_vector(&t);
        cr_expect_eq(vec, want_vec, "%s: vector %d, want %d (rip %#llx)", c->name, vec, want_vec,
                     (unsigned long long)cpu_get_rip(t.vp));
        if (c->out != O_NONE) {
            uint64_t got = read_out(&t, c->out);
            /* A faulting write leaves the register as it was. */
            uint64_t want = want_vec >= 0 ? before : c->want;
            cr_expect_eq(got, want, "%s: value %#llx, want %#llx", c->name, (unsigned long long)got,
                         (unsigned long long)want);
        }
        th_fini(&t);
    }
}

/* SDM Vol 3 Table 10-1: power-up and INIT state. */
Test(cpu_cr, reset_state)
{
    struct th t;
    th_init(&t);
    struct vcpu *vp = t.vp;
    uint32_t sig[4];
    cpu_cpuid_default(vp, 1, 0, sig);
    cr_expect_eq(cpu_get_gpr(vp, REG_RDX), sig[0], "EDX = CPUID.1:EAX");
    for (unsigned r = 0; r < 16; r++)
        if (r != REG_RDX)
            cr_expect_eq(cpu_get_gpr(vp, r), 0, "GPR %u", r);
    cr_expect_eq(cpu_get_rip(vp), 0xfff0);
    cr_expect_eq(cpu_get_rflags(vp), 2);
    cr_expect_eq(cpu_get_cr(vp, 0), 0x60000010);
    cr_expect_eq(cpu_get_cr(vp, 2) | cpu_get_cr(vp, 3) | cpu_get_cr(vp, 4), 0);
    cr_expect_eq(cpu_get_efer(vp), 0);
    struct seg s;
    cpu_get_seg(vp, SEG_CS, &s);
    cr_expect(s.sel == 0xf000 && s.base == 0xffff0000 && s.limit == 0xffff && s.attr == 0x9b,
              "CS %#x base %#llx limit %#x attr %#x", s.sel, (unsigned long long)s.base, s.limit, s.attr);
    for (unsigned r = SEG_ES; r <= SEG_GS; r++) {
        if (r == SEG_CS)
            continue;
        cpu_get_seg(vp, r, &s);
        cr_expect(s.sel == 0 && s.base == 0 && s.limit == 0xffff && s.attr == 0x93, "seg %u", r);
    }
    struct dtr d;
    cpu_get_dtr(vp, false, &d);
    cr_expect(d.base == 0 && d.limit == 0xffff, "GDTR");
    cpu_get_dtr(vp, true, &d);
    cr_expect(d.base == 0 && d.limit == 0xffff, "IDTR");
    th_fini(&t);
}

/* INIT keeps CR0.CD/NW and the x87/SSE state (here: an XMM register and MXCSR through the
 * accessors), and resets the rest as power-up does. */
Test(cpu_cr, init_keeps_what_sdm_says)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    struct vcpu *vp = t.vp;
    cpu_set_cr(vp, 0, 0xc0000011); /* CD without NW */
    cpu_set_gpr(vp, REG_RBX, 0x1234);
    const uint8_t code[] = {0x0f, 0xae, 0x14, 0x25, 0x00, 0x00, 0x04, 0x00, 0xf4}; /* ldmxcsr [0x40000]; hlt */
    th_wr(&t, TH_DATA, 0x1f00, 4);
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 10), CPU_STOP_HALT);
    cpu_reset_init(vp);
    cr_expect_eq(cpu_get_cr(vp, 0), 0x40000010, "CD/NW kept, ET set, PG/PE cleared");
    cr_expect_eq(cpu_get_gpr(vp, REG_RBX), 0);
    cr_expect_eq(cpu_get_efer(vp), 0);
    cr_expect_eq(cpu_get_rip(vp), 0xfff0);
    /* Back in real mode at F000:FFF0: STMXCSR there shows MXCSR survived (OSFXSR is clear
     * after INIT, so set it first). */
    cpu_set_cr(vp, 4, 0x200);
    const uint8_t rm[] = {0x0f, 0xae, 0x1e, 0x00, 0x40, 0xf4}; /* stmxcsr [0x4000]; hlt */
    struct seg cs = {0, 0, 0xffff, 0x9b};
    cpu_set_seg(vp, SEG_CS, &cs);
    cpu_set_rip(vp, 0x8000);
    th_load(&t, 0x8000, rm, sizeof(rm));
    cr_assert_eq(th_run(&t, 10), CPU_STOP_HALT);
    cr_expect_eq(th_rd(&t, 0x4000, 4), 0x1f00, "MXCSR kept across INIT");

    cpu_reset(vp);
    cr_expect_eq(cpu_get_cr(vp, 0), 0x60000010);
    cpu_set_cr(vp, 4, 0x200);
    cpu_set_seg(vp, SEG_CS, &cs);
    cpu_set_rip(vp, 0x8000);
    cr_assert_eq(th_run(&t, 10), CPU_STOP_HALT);
    cr_expect_eq(th_rd(&t, 0x4000, 4), 0x1f80, "MXCSR back to 1F80h after RESET");
    th_fini(&t);
}
