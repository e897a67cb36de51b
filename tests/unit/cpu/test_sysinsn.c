/* System-instruction rules (ops_sys.c), one table: UMIP at CPL 3, LAR/LSL/VERR/VERW valid
 * types and visibility, LLDT/LTR checks, privilege of WBINVD/INVD/INVLPG/RDPMC/RDTSC, LGDT
 * canonical base, INVPCID checks, MONITOR/MWAIT at CPL 3 (64-bit mode, CPL 0 or 3); LGDT/SGDT
 * image sizes and the legacy-mode LAR/LSL types. */
#include <criterion/criterion.h>

#include "harness.h"

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* Test descriptors go at 0x40 (16 bytes with the next slot); the harness GDT limit is 0x7f. */
#define SEL 0x40

struct sys_case {
    const char *name;
    bool user;          /* run at CPL 3 */
    uint64_t cr4_set;
    uint64_t d0, d1;    /* descriptor at SEL */
    uint64_t rcx;       /* selector / operand */
    const uint8_t *code;
    size_t len;
    int vector;         /* expected exception, -1 none */
    uint32_t error;     /* its error code */
    uint64_t rbx;       /* when completed: ZF from sete bl (or 1 = "ran") */
    uint64_t rax;       /* when completed and check_rax */
    bool check_rax;
};

/* lar rax, rcx / lsl rax, rcx / verr cx / verw cx; sete bl; hlt */
#define LAR CODE(0x48, 0x0f, 0x02, 0xc1, 0x0f, 0x94, 0xc3, 0xf4)
#define LSL CODE(0x48, 0x0f, 0x03, 0xc1, 0x0f, 0x94, 0xc3, 0xf4)
#define VERR CODE(0x0f, 0x00, 0xe1, 0x0f, 0x94, 0xc3, 0xf4)
#define VERW CODE(0x0f, 0x00, 0xe9, 0x0f, 0x94, 0xc3, 0xf4)
/* <insn>; mov bl, 1; hlt */
#define RAN(...) CODE(__VA_ARGS__, 0xb3, 0x01, 0xf4)
#define LLDT RAN(0x0f, 0x00, 0xd1)
#define LTR RAN(0x0f, 0x00, 0xd9)

#define DATA_RW 0x00cf93000000ffffull
#define DATA_DPL3 0x00cff3000000ffffull
#define CODE_XO 0x00af99000000ffffull
#define CONFORMING 0x00af9f000000ffffull
#define TSS16 0x0000810000000067ull
#define LDT 0x000082000000001full
#define LDT_NP 0x000002000000001full
#define TSS64 0x0000890000000067ull
#define TSS64_BUSY 0x00008b0000000067ull
#define CALLGATE 0x00008c0000080000ull
#define INTGATE 0x00008e0000080000ull
#define UPPER_TYPE 0x0000090000000000ull
#define CR4_UMIP (1ull << 11)
#define CR4_TSD (1ull << 2)
#define CR4_PCE (1ull << 8)

static const struct sys_case cases[] = {
    /* UMIP: SGDT/SIDT/SLDT/STR/SMSW at CPL 3 */
    {"umip_sgdt_cpl3_gp", true, CR4_UMIP, 0, 0, 0, RAN(0x0f, 0x01, 0x00), 13, 0, 0, 0, false},
    {"umip_sidt_cpl3_gp", true, CR4_UMIP, 0, 0, 0, RAN(0x0f, 0x01, 0x08), 13, 0, 0, 0, false},
    {"umip_sldt_cpl3_gp", true, CR4_UMIP, 0, 0, 0, RAN(0x0f, 0x00, 0xc0), 13, 0, 0, 0, false},
    {"umip_str_cpl3_gp", true, CR4_UMIP, 0, 0, 0, RAN(0x0f, 0x00, 0xc8), 13, 0, 0, 0, false},
    {"umip_smsw_cpl3_gp", true, CR4_UMIP, 0, 0, 0, RAN(0x0f, 0x01, 0xe0), 13, 0, 0, 0, false},
    {"no_umip_smsw_cpl3_ok", true, 0, 0, 0, 0, RAN(0x0f, 0x01, 0xe0), -1, 0, 1, 0, false},
    {"no_umip_sgdt_cpl3_ok", true, 0, 0, 0, 0, RAN(0x0f, 0x01, 0x00), -1, 0, 1, 0, false},
    {"umip_sgdt_cpl0_ok", false, CR4_UMIP, 0, 0, 0, RAN(0x0f, 0x01, 0x00), -1, 0, 1, 0, false},
    /* LAR/LSL/VERR/VERW */
    {"lar_data", false, 0, DATA_RW, 0, SEL, LAR, -1, 0, 1, 0x00c09300, true},
    {"lsl_data_page_granular", false, 0, DATA_RW, 0, SEL, LSL, -1, 0, 1, 0xffffffff, true},
    {"lsl_code_page_granular", false, 0, CODE_XO, 0, SEL, LSL, -1, 0, 1, 0xffffffff, true},
    {"verr_data", false, 0, DATA_RW, 0, SEL, VERR, -1, 0, 1, 0, false},
    {"verw_data", false, 0, DATA_RW, 0, SEL, VERW, -1, 0, 1, 0, false},
    {"verr_execute_only_fails", false, 0, CODE_XO, 0, SEL, VERR, -1, 0, 0, 0, false},
    {"verw_code_fails", false, 0, CONFORMING, 0, SEL, VERW, -1, 0, 0, 0, false},
    {"lar_rpl3_on_dpl0_fails", false, 0, DATA_RW, 0, SEL | 3, LAR, -1, 0, 0, 0, false},
    {"lar_cpl3_dpl0_fails", true, 0, DATA_RW, 0, SEL | 3, LAR, -1, 0, 0, 0, false},
    {"lar_cpl3_dpl3_ok", true, 0, DATA_DPL3, 0, SEL | 3, LAR, -1, 0, 1, 0x00c0f300, true},
    {"lar_cpl3_conforming_dpl0_ok", true, 0, CONFORMING, 0, SEL | 3, LAR, -1, 0, 1, 0x00a09f00, true},
    {"verr_cpl3_conforming_dpl0_ok", true, 0, CONFORMING, 0, SEL | 3, VERR, -1, 0, 1, 0, false},
    {"lar_null_fails", false, 0, DATA_RW, 0, 0, LAR, -1, 0, 0, 0, false},
    {"lar_beyond_limit_fails", false, 0, DATA_RW, 0, 0x80, LAR, -1, 0, 0, 0, false},
    {"lar_tss16_long_mode_fails", false, 0, TSS16, 0, SEL, LAR, -1, 0, 0, 0, false},
    {"lsl_tss16_long_mode_fails", false, 0, TSS16, 0, SEL, LSL, -1, 0, 0, 0, false},
    {"lar_ldt_ok", false, 0, LDT, 0, SEL, LAR, -1, 0, 1, 0x8200, true},
    {"lsl_ldt_ok", false, 0, LDT, 0, SEL, LSL, -1, 0, 1, 0x1f, true},
    {"lsl_tss64_ok", false, 0, TSS64, 0, SEL, LSL, -1, 0, 1, 0x67, true},
    {"lar_callgate_ok", false, 0, CALLGATE, 0, SEL, LAR, -1, 0, 1, 0x8c00, true},
    {"lsl_callgate_fails", false, 0, CALLGATE, 0, SEL, LSL, -1, 0, 0, 0, false},
    {"lar_intgate_fails", false, 0, INTGATE, 0, SEL, LAR, -1, 0, 0, 0, false},
    {"lar_tss64_upper_type_fails", false, 0, TSS64, UPPER_TYPE, SEL, LAR, -1, 0, 0, 0, false},
    {"verr_tss_fails", false, 0, TSS64, 0, SEL, VERR, -1, 0, 0, 0, false},
    /* LLDT / LTR */
    {"lldt_ok", false, 0, LDT, 0, SEL, LLDT, -1, 0, 1, 0, false},
    {"lldt_null_ok", false, 0, 0, 0, 0, LLDT, -1, 0, 1, 0, false},
    {"lldt_tss_gp", false, 0, TSS64, 0, SEL, LLDT, 13, SEL, 0, 0, false},
    {"lldt_not_present_np", false, 0, LDT_NP, 0, SEL, LLDT, 11, SEL, 0, 0, false},
    {"lldt_ti_gp", false, 0, LDT, 0, SEL | 4, LLDT, 13, SEL | 4, 0, 0, false},
    {"lldt_upper_type_gp", false, 0, LDT, UPPER_TYPE, SEL, LLDT, 13, SEL, 0, 0, false},
    {"lldt_noncanonical_base_gp", false, 0, LDT, 0x8000, SEL, LLDT, 13, SEL, 0, 0, false},
    {"lldt_cpl3_gp", true, 0, LDT, 0, SEL, LLDT, 13, 0, 0, 0, false},
    {"ltr_ok", false, 0, TSS64, 0, SEL, LTR, -1, 0, 1, 0, false},
    {"ltr_null_gp", false, 0, 0, 0, 0, LTR, 13, 0, 0, 0, false},
    {"ltr_busy_gp", false, 0, TSS64_BUSY, 0, SEL, LTR, 13, SEL, 0, 0, false},
    {"ltr_tss16_long_mode_gp", false, 0, TSS16, 0, SEL, LTR, 13, SEL, 0, 0, false},
    {"ltr_upper_type_gp", false, 0, TSS64, UPPER_TYPE, SEL, LTR, 13, SEL, 0, 0, false},
    {"ltr_cpl3_gp", true, 0, TSS64, 0, SEL, LTR, 13, 0, 0, 0, false},
    /* privilege and absent features */
    {"wbinvd_cpl0_ok", false, 0, 0, 0, 0, RAN(0x0f, 0x09), -1, 0, 1, 0, false},
    {"wbinvd_cpl3_gp", true, 0, 0, 0, 0, RAN(0x0f, 0x09), 13, 0, 0, 0, false},
    {"invd_cpl3_gp", true, 0, 0, 0, 0, RAN(0x0f, 0x08), 13, 0, 0, 0, false},
    {"invlpg_cpl3_gp", true, 0, 0, 0, 0, RAN(0x0f, 0x01, 0x39), 13, 0, 0, 0, false},
    {"rdpmc_cpl0_no_counters_gp", false, 0, 0, 0, 0, RAN(0x0f, 0x33), 13, 0, 0, 0, false},
    {"rdpmc_cpl3_pce_no_counters_gp", true, CR4_PCE, 0, 0, 0, RAN(0x0f, 0x33), 13, 0, 0, 0, false},
    {"rdtsc_cpl3_ok", true, 0, 0, 0, 0, RAN(0x0f, 0x31), -1, 0, 1, 0, false},
    {"rdtsc_cpl3_tsd_gp", true, CR4_TSD, 0, 0, 0, RAN(0x0f, 0x31), 13, 0, 0, 0, false},
    {"rdtscp_cpl3_tsd_gp", true, CR4_TSD, 0, 0, 0, RAN(0x0f, 0x01, 0xf9), 13, 0, 0, 0, false},
    {"rdtsc_cpl0_tsd_ok", false, CR4_TSD, 0, 0, 0, RAN(0x0f, 0x31), -1, 0, 1, 0, false},
    {"monitor_cpl3_ud", true, 0, 0, 0, 0, RAN(0x0f, 0x01, 0xc8), 6, 0, 0, 0, false},
    {"mwait_cpl3_ud", true, 0, 0, 0, 0, RAN(0x0f, 0x01, 0xc9), 6, 0, 0, 0, false},
    /* lgdt [rdi] with the image at TH_DATA (set up by the runner: non-canonical base) */
    {"lgdt_noncanonical_gp", false, 0, 0, 0, 0, RAN(0x0f, 0x01, 0x17), 13, 0, 0, 0, false},
    {"lidt_cpl3_gp", true, 0, 0, 0, 0, RAN(0x0f, 0x01, 0x1f), 13, 0, 0, 0, false},
    /* invpcid rcx (type), [rdi + 0x10] (a zero descriptor) */
    {"invpcid_type4_gp", false, 0, 0, 0, 4, RAN(0x66, 0x0f, 0x38, 0x82, 0x4f, 0x10), 13, 0, 0, 0, false},
    {"invpcid_type2_ok", false, 0, 0, 0, 2, RAN(0x66, 0x0f, 0x38, 0x82, 0x4f, 0x10), -1, 0, 1, 0, false},
    /* [rdi + 0x30]: PCID 1 with CR4.PCIDE clear; [rdi + 0x40]: PCID 0, non-canonical address */
    {"invpcid_type1_pcid_without_pcide_gp", false, 0, 0, 0, 1, RAN(0x66, 0x0f, 0x38, 0x82, 0x4f, 0x30), 13, 0,
     0, 0, false},
    {"invpcid_type0_noncanonical_gp", false, 0, 0, 0, 0, RAN(0x66, 0x0f, 0x38, 0x82, 0x4f, 0x40), 13, 0, 0, 0,
     false},
    {"invpcid_type0_ok", false, 0, 0, 0, 0, RAN(0x66, 0x0f, 0x38, 0x82, 0x4f, 0x10), -1, 0, 1, 0, false},
};

static void to_user(struct th *t)
{
    th_user_pages(t);
    th_wr(t, 0x9004, TH_STACK, 8); /* TSS.RSP0 */
    struct seg cs = {0x2b, 0, 0xffffffff, 0xa0fb}, ss = {0x33, 0, 0xffffffff, 0xc0f3};
    cpu_set_seg(t->vp, SEG_CS, &cs);
    cpu_set_seg(t->vp, SEG_SS, &ss);
    cpu_set_gpr(t->vp, REG_RSP, TH_STACK - 0x1000);
}

Test(cpu_sysinsn, table)
{
    for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
        const struct sys_case *c = &cases[k];
        struct th t;
        th_init(&t);
        th_mode64(&t);
        th_idt64(&t);
        th_load(&t, TH_CODE, c->code, c->len);
        th_wr(&t, TH_GDT + SEL, c->d0, 8);
        th_wr(&t, TH_GDT + SEL + 8, c->d1, 8);
        th_wr(&t, TH_DATA, 0x7f, 2); /* LGDT/LIDT image: limit, non-canonical base */
        th_wr(&t, TH_DATA + 2, 0x0000800000000000ull, 8);
        th_wr(&t, TH_DATA + 0x30, 1, 8);                     /* INVPCID descriptors */
        th_wr(&t, TH_DATA + 0x48, 0x0000800000000000ull, 8);
        cpu_set_gpr(t.vp, REG_RCX, c->rcx);
        cpu_set_gpr(t.vp, REG_RDI, TH_DATA);
        cpu_set_gpr(t.vp, REG_RAX, 0x5555);
        cpu_set_gpr(t.vp, REG_RBX, 0x77);
        cpu_set_cr(t.vp, 4, cpu_get_cr(t.vp, 4) | c->cr4_set);
        if (c->user)
            to_user(&t);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", c->name);
        /* At CPL 3 the closing HLT itself is #GP: completion is that #GP at the HLT. */
        uint64_t rip = th_rd(&t, TH_STACK - 40, 8);
        if (c->user && c->vector < 0) {
            cr_expect(th_vector(&t) == 13 && rip == TH_CODE + c->len - 1, "%s: vector %d at %#llx",
                      c->name, th_vector(&t), (unsigned long long)rip);
        } else {
            cr_expect_eq(th_vector(&t), c->vector, "%s: vector %d", c->name, th_vector(&t));
            if (c->vector >= 0)
                cr_expect_eq(rip, TH_CODE, "%s: fault RIP %#llx", c->name, (unsigned long long)rip);
        }
        if (c->vector >= 0) {
            uint64_t err = th_rd(&t, TH_STACK - 48, 8);
            if (c->vector == 13 || c->vector == 11)
                cr_expect_eq(err, c->error, "%s: error %#llx", c->name, (unsigned long long)err);
        } else {
            cr_expect_eq(cpu_get_gpr(t.vp, REG_RBX) & 0xff, c->rbx, "%s: rbx %#llx", c->name,
                         (unsigned long long)cpu_get_gpr(t.vp, REG_RBX));
            if (c->check_rax)
                cr_expect_eq(cpu_get_gpr(t.vp, REG_RAX), c->rax, "%s: rax %#llx", c->name,
                             (unsigned long long)cpu_get_gpr(t.vp, REG_RAX));
        }
        th_fini(&t);
    }
}

/* LTR marks the TSS descriptor busy in the GDT. */
Test(cpu_sysinsn, ltr_sets_busy)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    th_idt64(&t);
    static const uint8_t code[] = {0x0f, 0x00, 0xd9, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    th_wr(&t, TH_GDT + SEL, TSS64, 8);
    th_wr(&t, TH_GDT + SEL + 8, 0, 8);
    cpu_set_gpr(t.vp, REG_RCX, SEL);
    cr_assert_eq(th_run(&t, 10), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), -1);
    cr_expect_eq(th_rd(&t, TH_GDT + SEL, 8), TSS64_BUSY);
    struct seg tr;
    cpu_get_seg(t.vp, SEG_TR, &tr);
    cr_expect_eq(tr.sel, SEL);
    th_fini(&t);
}

/* LGDT/LIDT and SGDT/SIDT image sizes (SDM LGDT/SGDT): 16-bit operand size loads a 24-bit
 * base, 32-bit a 32-bit base; outside 64-bit mode SGDT stores 2 + 4 bytes whatever the operand
 * size; in 64-bit mode both use 2 + 8 bytes. */
struct dtr_case {
    const char *name;
    bool mode64, o16, idt;
    uint64_t base_in, base_loaded, stored_hi; /* stored_hi: the 8 bytes at image + 2 */
};

static const struct dtr_case dtr_cases[] = {
    {"lgdt_o32", false, false, false, 0xaabbccdd12345678ull, 0x12345678, 0x12345678},
    {"lgdt_o16_24bit_base", false, true, false, 0xaabbccdd12345678ull, 0x345678, 0x345678},
    {"lidt_o32", false, false, true, 0x0000000087654321ull, 0x87654321, 0x87654321},
    {"lidt_o16_24bit_base", false, true, true, 0x0000000087654321ull, 0x654321, 0x654321},
    {"lgdt_64", true, false, false, 0xffff800012345678ull, 0xffff800012345678ull, 0xffff800012345678ull},
    {"lidt_64_o16_ignored", true, true, true, 0x0000123456789000ull, 0x0000123456789000ull, 0x0000123456789000ull},
};

Test(cpu_sysinsn, dtr_operand_sizes)
{
    for (size_t k = 0; k < ARRAY_SIZE(dtr_cases); k++) {
        const struct dtr_case *c = &dtr_cases[k];
        struct th t;
        th_init(&t);
        if (c->mode64)
            th_mode64(&t);
        else
            th_mode32(&t);
        /* [66] lgdt/lidt [rdi]; [66] sgdt/sidt [rdi + 0x20]; hlt */
        uint8_t code[16];
        size_t n = 0;
        if (c->o16)
            code[n++] = 0x66;
        code[n++] = 0x0f, code[n++] = 0x01, code[n++] = c->idt ? 0x1f : 0x17;
        if (c->o16)
            code[n++] = 0x66;
        code[n++] = 0x0f, code[n++] = 0x01, code[n++] = c->idt ? 0x4f : 0x47, code[n++] = 0x20;
        code[n++] = 0xf4;
        th_load(&t, TH_CODE, code, n);
        th_wr(&t, TH_DATA, 0x1234, 2);
        th_wr(&t, TH_DATA + 2, c->base_in, 8);
        th_wr(&t, TH_DATA + 0x20, ~0ull, 8);
        th_wr(&t, TH_DATA + 0x28, ~0ull, 8);
        cpu_set_gpr(t.vp, REG_RDI, TH_DATA);
        cr_assert_eq(th_run(&t, 10), CPU_STOP_HALT, "%s", c->name);
        struct dtr d;
        cpu_get_dtr(t.vp, c->idt, &d);
        cr_expect_eq(d.base, c->base_loaded, "%s: base %#llx", c->name, (unsigned long long)d.base);
        cr_expect_eq(d.limit, 0x1234, "%s: limit", c->name);
        cr_expect_eq(th_rd(&t, TH_DATA + 0x20, 2), 0x1234, "%s: stored limit", c->name);
        uint64_t hi = th_rd(&t, TH_DATA + 0x22, 8);
        uint64_t want = c->mode64 ? c->stored_hi : (~0ull << 32 | c->stored_hi); /* 6-byte image */
        cr_expect_eq(hi, want, "%s: stored base %#llx, want %#llx", c->name, (unsigned long long)hi,
                     (unsigned long long)want);
        th_fini(&t);
    }
}

/* Outside IA-32e mode (32-bit protected mode) LAR and LSL also accept the 16-bit TSS, and LAR
 * the task gate and 16/32-bit call gates; interrupt and trap gates stay invalid. */
struct legacy_case {
    const char *name;
    bool lar;
    uint64_t desc;
    bool ok;
    uint32_t value;
};

static const struct legacy_case legacy_cases[] = {
    {"lar_tss16", true, TSS16, true, 0x8100},
    {"lsl_tss16", false, TSS16, true, 0x67},
    {"lar_busy_tss16", true, 0x0000830000000067ull, true, 0x8300},
    {"lar_callgate16", true, 0x0000840000080000ull, true, 0x8400},
    {"lsl_callgate16_fails", false, 0x0000840000080000ull, false, 0},
    {"lar_taskgate", true, 0x0000850000000000ull, true, 0x8500},
    {"lar_callgate32", true, CALLGATE, true, 0x8c00},
    {"lar_intgate32_fails", true, INTGATE, false, 0},
    {"lar_trapgate32_fails", true, 0x00008f0000080000ull, false, 0},
    {"lsl_tss32_busy", false, 0x00008b0000000067ull, true, 0x67},
    {"lar_reserved_type8_fails", true, 0x0000880000000067ull, false, 0},
};

Test(cpu_sysinsn, lar_lsl_legacy_types)
{
    for (size_t k = 0; k < ARRAY_SIZE(legacy_cases); k++) {
        const struct legacy_case *c = &legacy_cases[k];
        struct th t;
        th_init(&t);
        th_mode32(&t);
        /* lar/lsl eax, ecx; sete bl; hlt */
        const uint8_t code[] = {0x0f, c->lar ? 0x02 : 0x03, 0xc1, 0x0f, 0x94, 0xc3, 0xf4};
        th_load(&t, TH_CODE, code, sizeof(code));
        struct dtr g = {TH_GDT, 0x7f};
        cpu_set_dtr(t.vp, false, &g);
        th_wr(&t, TH_GDT + SEL, c->desc, 8);
        cpu_set_gpr(t.vp, REG_RCX, SEL);
        cpu_set_gpr(t.vp, REG_RAX, 0x5555);
        cr_assert_eq(th_run(&t, 10), CPU_STOP_HALT, "%s", c->name);
        cr_expect_eq(cpu_get_gpr(t.vp, REG_RBX) & 0xff, c->ok, "%s: ZF", c->name);
        cr_expect_eq(cpu_get_gpr(t.vp, REG_RAX), c->ok ? c->value : 0x5555, "%s: eax %#llx", c->name,
                     (unsigned long long)cpu_get_gpr(t.vp, REG_RAX));
        th_fini(&t);
    }
}
