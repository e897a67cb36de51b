/* System instructions from inside a guest: UMIP at ring 3, LAR/LSL/VERR/VERW on each kind of
 * descriptor (legacy vs IA-32e valid types, DPL/RPL and the conforming-code rule), LLDT/LTR
 * checks, LGDT/SGDT, cache and TLB control, RDTSC/RDPMC privilege, MONITOR/MWAIT privilege,
 * opcode 63 as MOVSXD. */
#include "guest.h"

/* A private GDT: the library's eight entries, then the test descriptors from 0x40. */
static uint64_t gdt[32] __attribute__((aligned(16)));
struct __attribute__((packed)) dtr64 { uint16_t limit; uint64_t base; };
static struct dtr64 lib_gdtr;

#define SEL_DATA_RW 0x40    /* data, read/write, DPL 0, G=1 */
#define SEL_CODE_XO 0x48    /* code, execute-only, DPL 0 */
#define SEL_DATA_RO 0x50    /* data, read-only, DPL 0, limit 0x1234 byte-granular */
#define SEL_CONF 0x58       /* code, conforming readable, DPL 0 */
#define SEL_NOTPRESENT 0x60 /* data, not present */
#define SEL_TSS16 0x68      /* 16-bit available TSS (type 1) */
#define SEL_LDT 0x70        /* LDT, 16 bytes (0x70, 0x78) */
#define SEL_TSS64 0x80      /* 64-bit available TSS, 16 bytes */
#define SEL_CALLGATE 0x90   /* 64-bit call gate, 16 bytes */
#define SEL_INTGATE 0xa0    /* interrupt gate: never valid for LAR */
#define SEL_TSS64_BADHI 0xb0 /* 64-bit TSS whose upper half has a non-zero type */
#define SEL_LDT_NP 0xc0     /* LDT, not present */
#define SEL_DATA_DPL3 0xd0  /* data, DPL 3 */
#define SEL_BEYOND 0xf8     /* beyond the GDT limit */

static void setup_gdt(void)
{
    __asm__ volatile("sgdt %0" : "=m"(lib_gdtr));
    memcpy(gdt, (void *)(uintptr_t)lib_gdtr.base, lib_gdtr.limit + 1u);
    gdt[SEL_DATA_RW / 8] = 0x00cf93000000ffffull;
    gdt[SEL_CODE_XO / 8] = 0x00af99000000ffffull;
    gdt[SEL_DATA_RO / 8] = 0x0000910000001234ull;
    gdt[SEL_CONF / 8] = 0x00af9f000000ffffull;
    gdt[SEL_NOTPRESENT / 8] = 0x00cf13000000ffffull;
    gdt[SEL_TSS16 / 8] = 0x0000810000000067ull;
    gdt[SEL_LDT / 8] = 0x000082000000001full;
    gdt[SEL_LDT / 8 + 1] = 0;
    gdt[SEL_TSS64 / 8] = 0x0000890000000067ull;
    gdt[SEL_TSS64 / 8 + 1] = 0;
    gdt[SEL_CALLGATE / 8] = 0x00008c0000080000ull;
    gdt[SEL_CALLGATE / 8 + 1] = 0;
    gdt[SEL_INTGATE / 8] = 0x00008e0000080000ull;
    gdt[SEL_INTGATE / 8 + 1] = 0;
    gdt[SEL_TSS64_BADHI / 8] = 0x0000890000000067ull;
    gdt[SEL_TSS64_BADHI / 8 + 1] = 0x0000090000000000ull;
    gdt[SEL_LDT_NP / 8] = 0x000002000000001full;
    gdt[SEL_LDT_NP / 8 + 1] = 0;
    gdt[SEL_DATA_DPL3 / 8] = 0x00cff3000000ffffull;
    struct dtr64 d = {SEL_BEYOND - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile("lgdt %0" ::"m"(d));
}

/* ---- LAR / LSL / VERR / VERW: ZF and the value ---- */
struct seg_result { uint64_t lar, lsl; bool lar_ok, lsl_ok, verr, verw; };

static void probe(uint16_t sel, struct seg_result *r)
{
    uint64_t lar = 0xdead, lsl = 0xdead;
    uint8_t zl, zs, zr, zw;
    __asm__ volatile("larq %q5, %0; setz %2; lslq %q5, %1; setz %3"
                     : "+&r"(lar), "+&r"(lsl), "=&q"(zl), "=&q"(zs) : "i"(0), "r"((uint64_t)sel) : "cc");
    __asm__ volatile("verr %w2; setz %0; verw %w2; setz %1" : "=&q"(zr), "=&q"(zw) : "r"(sel) : "cc");
    r->lar = lar, r->lsl = lsl, r->lar_ok = zl, r->lsl_ok = zs, r->verr = zr, r->verw = zw;
}

static void user_probe(void *arg)
{
    struct seg_result *r = arg;
    probe((uint16_t)r->lar, r);
}

struct seg_case {
    const char *name;
    uint16_t sel;
    bool user;
    bool lar_ok, lsl_ok, verr, verw;
    uint64_t lar, lsl; /* when ok */
};

static const struct seg_case seg_cases[] = {
    {"lar.data_rw", SEL_DATA_RW, false, true, true, true, true, 0x00c09300, 0xffffffff},
    {"lar.code_execute_only", SEL_CODE_XO, false, true, true, false, false, 0x00a09900, 0xffffffff},
    {"lar.data_read_only", SEL_DATA_RO, false, true, true, true, false, 0x00009100, 0x1234},
    {"lar.not_present_still_valid", SEL_NOTPRESENT, false, true, true, true, true, 0x00c01300, 0xffffffff},
    {"lar.tss16_invalid_in_long_mode", SEL_TSS16, false, false, false, false, false, 0, 0},
    {"lar.ldt_valid", SEL_LDT, false, true, true, false, false, 0x00008200, 0x1f},
    {"lar.tss64_valid", SEL_TSS64, false, true, true, false, false, 0x00008900, 0x67},
    {"lar.call_gate_lar_only", SEL_CALLGATE, false, true, false, false, false, 0x00008c00, 0},
    {"lar.interrupt_gate_invalid", SEL_INTGATE, false, false, false, false, false, 0, 0},
    {"lar.tss64_upper_type_invalid", SEL_TSS64_BADHI, false, false, false, false, false, 0, 0},
    {"lar.null_selector", 0, false, false, false, false, false, 0, 0},
    {"lar.beyond_gdt_limit", SEL_BEYOND, false, false, false, false, false, 0, 0},
    {"lar.rpl3_above_dpl0", SEL_DATA_RW | 3, false, false, false, false, false, 0, 0},
    {"lar.ring3_dpl0_data_invisible", SEL_DATA_RW | 3, true, false, false, false, false, 0, 0},
    {"lar.ring3_dpl3_data", SEL_DATA_DPL3 | 3, true, true, true, true, true, 0x00c0f300, 0xffffffff},
    {"lar.ring3_conforming_code_visible", SEL_CONF | 3, true, true, true, true, false, 0x00a09f00, 0xffffffff},
    {"lar.ring3_tss64_dpl0_invisible", SEL_TSS64 | 3, true, false, false, false, false, 0, 0},
};

static void seg_tests(void)
{
    for (unsigned k = 0; k < sizeof(seg_cases) / sizeof(seg_cases[0]); k++) {
        const struct seg_case *c = &seg_cases[k];
        struct seg_result r = {0};
        long t = 0;
        if (c->user) {
            r.lar = c->sel;
            t = try_call_user(user_probe, &r);
        } else {
            probe(c->sel, &r);
        }
        bool ok = t == 0 && r.lar_ok == c->lar_ok && r.lsl_ok == c->lsl_ok && r.verr == c->verr &&
                  r.verw == c->verw && (!c->lar_ok || r.lar == c->lar) && (!c->lsl_ok || r.lsl == c->lsl);
        check(c->name, ok, "sel 0x%x trap 0x%lx lar %d 0x%llx lsl %d 0x%llx verr %d verw %d", c->sel, t,
              r.lar_ok, (unsigned long long)r.lar, r.lsl_ok, (unsigned long long)r.lsl, r.verr, r.verw);
    }
}

/* ---- instructions run at ring 0 or 3 that must fault (or not) ---- */
static void do_sgdt(void *a) { (void)a; struct dtr64 d; __asm__ volatile("sgdt %0" : "=m"(d)); }
static void do_sidt(void *a) { (void)a; struct dtr64 d; __asm__ volatile("sidt %0" : "=m"(d)); }
static void do_sldt(void *a) { (void)a; uint16_t s; __asm__ volatile("sldt %0" : "=r"(s)); }
static void do_str(void *a) { (void)a; uint16_t s; __asm__ volatile("str %0" : "=r"(s)); }
static void do_smsw(void *a) { (void)a; uint64_t s; __asm__ volatile("smsw %0" : "=r"(s)); }
static void do_wbinvd(void *a) { (void)a; __asm__ volatile("wbinvd"); }
static void do_invd(void *a) { (void)a; __asm__ volatile("invd"); }
static void do_invlpg(void *a) { (void)a; __asm__ volatile("invlpg (%0)" ::"r"(0x1000ul)); }
static void do_rdpmc(void *a) { (void)a; __asm__ volatile("rdpmc" ::"c"(0) : "rax", "rdx"); }
static void do_rdtsc(void *a) { (void)a; __asm__ volatile("rdtsc" ::: "rax", "rdx"); }
static void do_rdtscp(void *a) { (void)a; __asm__ volatile("rdtscp" ::: "rax", "rcx", "rdx"); }
static void do_monitor(void *a) { __asm__ volatile("monitor" ::"a"(a), "c"(0), "d"(0)); }
static void do_mwait(void *a) { (void)a; __asm__ volatile("mwait" ::"a"(0), "c"(0)); }
static void do_lgdt_user(void *a) { (void)a; __asm__ volatile("lgdt %0" ::"m"(lib_gdtr)); }
static void do_lgdt_noncanonical(void *a)
{
    (void)a;
    struct dtr64 d = {0x7f, 0x0000800000000000ull};
    __asm__ volatile("lgdt %0" ::"m"(d));
}
static void do_lidt_noncanonical(void *a)
{
    (void)a;
    struct dtr64 d = {0xfff, 0x8000000000001000ull};
    __asm__ volatile("lidt %0" ::"m"(d));
}
static void do_invpcid_type4(void *a)
{
    (void)a;
    static uint64_t desc[2];
    __asm__ volatile("invpcid %0, %1" ::"m"(desc), "r"(4ul));
}
static void do_lldt(void *a) { __asm__ volatile("lldt %w0" ::"r"((uint16_t)(uintptr_t)a)); }
static void do_ltr(void *a) { __asm__ volatile("ltr %w0" ::"r"((uint16_t)(uintptr_t)a)); }

struct fault_case {
    const char *name;
    void (*fn)(void *);
    uintptr_t arg;
    bool user;
    long trap;      /* 0, or TRAP_CAUGHT | vector */
    uint64_t error; /* error code when trapped */
};

#define GP (TRAP_CAUGHT | 13)
#define UD (TRAP_CAUGHT | 6)
#define NP (TRAP_CAUGHT | 11)

static const struct fault_case umip_cases[] = {
    {"umip.sgdt_ring3_gp", do_sgdt, 0, true, GP, 0},
    {"umip.sidt_ring3_gp", do_sidt, 0, true, GP, 0},
    {"umip.sldt_ring3_gp", do_sldt, 0, true, GP, 0},
    {"umip.str_ring3_gp", do_str, 0, true, GP, 0},
    {"umip.smsw_ring3_gp", do_smsw, 0, true, GP, 0},
    {"umip.sgdt_ring0_ok", do_sgdt, 0, false, 0, 0},
    {"umip.smsw_ring0_ok", do_smsw, 0, false, 0, 0},
};

static const struct fault_case no_umip_cases[] = {
    {"no_umip.sgdt_ring3_ok", do_sgdt, 0, true, 0, 0},
    {"no_umip.sidt_ring3_ok", do_sidt, 0, true, 0, 0},
    {"no_umip.sldt_ring3_ok", do_sldt, 0, true, 0, 0},
    {"no_umip.str_ring3_ok", do_str, 0, true, 0, 0},
    {"no_umip.smsw_ring3_ok", do_smsw, 0, true, 0, 0},
};

static const struct fault_case priv_cases[] = {
    {"wbinvd.ring0_ok", do_wbinvd, 0, false, 0, 0},
    {"wbinvd.ring3_gp", do_wbinvd, 0, true, GP, 0},
    {"invd.ring3_gp", do_invd, 0, true, GP, 0},
    {"invlpg.ring3_gp", do_invlpg, 0, true, GP, 0},
    {"rdpmc.no_counters_gp", do_rdpmc, 0, false, GP, 0},
    {"rdpmc.ring3_gp", do_rdpmc, 0, true, GP, 0},
    {"rdtsc.ring3_ok", do_rdtsc, 0, true, 0, 0},
    {"rdtscp.ring3_ok", do_rdtscp, 0, true, 0, 0},
    {"monitor.ring3_ud", do_monitor, 0x1000, true, UD, 0},
    {"mwait.ring3_ud", do_mwait, 0, true, UD, 0},
    {"lgdt.ring3_gp", do_lgdt_user, 0, true, GP, 0},
    {"lgdt.noncanonical_base_gp", do_lgdt_noncanonical, 0, false, GP, 0},
    {"lidt.noncanonical_base_gp", do_lidt_noncanonical, 0, false, GP, 0},
    {"invpcid.type4_gp", do_invpcid_type4, 0, false, GP, 0},
    {"lldt.ring3_gp", do_lldt, 0, true, GP, 0},
    {"lldt.tss_selector_gp", do_lldt, SEL_TSS64, false, GP, SEL_TSS64},
    {"lldt.data_selector_gp", do_lldt, SEL_DATA_RW, false, GP, SEL_DATA_RW},
    {"lldt.not_present_np", do_lldt, SEL_LDT_NP, false, NP, SEL_LDT_NP},
    {"lldt.ti_set_gp", do_lldt, SEL_LDT | 4, false, GP, SEL_LDT | 4},
    {"lldt.valid", do_lldt, SEL_LDT, false, 0, 0},
    {"lldt.null_ok", do_lldt, 0, false, 0, 0},
    {"ltr.ring3_gp", do_ltr, SEL_TSS64, true, GP, 0},
    {"ltr.null_gp", do_ltr, 0, false, GP, 0},
    {"ltr.busy_tss_gp", do_ltr, 0x30, false, GP, 0x30},
    {"ltr.tss16_in_long_mode_gp", do_ltr, SEL_TSS16, false, GP, SEL_TSS16},
    {"ltr.upper_type_nonzero_gp", do_ltr, SEL_TSS64_BADHI, false, GP, SEL_TSS64_BADHI},
    {"ltr.ldt_selector_gp", do_ltr, SEL_LDT, false, GP, SEL_LDT},
};

static void run_cases(const struct fault_case *c, unsigned n)
{
    for (unsigned k = 0; k < n; k++, c++) {
        long t = c->user ? try_call_user(c->fn, (void *)c->arg) : try_call(c->fn, (void *)c->arg);
        bool ok = t == c->trap && (!t || trap_last.error_code == c->error);
        check(c->name, ok, "trap 0x%lx (want 0x%lx) error 0x%llx (want 0x%llx)", t, c->trap,
              (unsigned long long)trap_last.error_code, (unsigned long long)c->error);
    }
}

static void user_rdtsc_tsd(void *a) { (void)a; __asm__ volatile("rdtsc" ::: "rax", "rdx"); }

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("sys_insn\n");
    setup_gdt();

    struct cpuid_regs c7 = cpuid(7, 0), c1 = cpuid(1, 0);
    CHECK("cpuid.umip", c7.ecx & (1u << 2));
    CHECK("cpuid.monitor", c1.ecx & (1u << 3)); /* MWAIT itself: sys_mwait.c */

    seg_tests();

    /* SGDT stores a 10-byte image in 64-bit mode: the limit, then the full base. */
    uint8_t img[12];
    memset(img, 0xee, sizeof(img));
    __asm__ volatile("sgdt %0" : "=m"(*(uint8_t(*)[10])img));
    uint16_t lim;
    uint64_t base;
    memcpy(&lim, img, 2);
    memcpy(&base, img + 2, 8);
    CHECK("sgdt.format_64", lim == SEL_BEYOND - 1 && base == (uint64_t)(uintptr_t)gdt && img[10] == 0xee);

    run_cases(no_umip_cases, sizeof(no_umip_cases) / sizeof(no_umip_cases[0]));
    uint64_t cr4 = read_cr4();
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | 1u << 11));
    run_cases(umip_cases, sizeof(umip_cases) / sizeof(umip_cases[0]));
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4));

    run_cases(priv_cases, sizeof(priv_cases) / sizeof(priv_cases[0]));
    uint16_t ldtr;
    __asm__ volatile("sldt %0" : "=r"(ldtr));
    CHECK_EQ("lldt.null_then_sldt", ldtr, 0);

    /* CR4.TSD: RDTSC at ring 3 faults. */
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | 1u << 2));
    long t = try_call_user(user_rdtsc_tsd, NULL);
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
    CHECK_EQ("rdtsc.tsd_ring3_gp", t, GP);

    /* Opcode 63 in 64-bit mode is MOVSXD, not ARPL. */
    uint64_t out;
    __asm__ volatile(".byte 0x48, 0x63, 0xc1" : "=a"(out) : "c"(0x80000000u));
    CHECK_EQ("movsxd.opcode63_sign_extends", out, 0xffffffff80000000ull);

    __asm__ volatile("lgdt %0" ::"m"(lib_gdtr));
    test_finish();
}
