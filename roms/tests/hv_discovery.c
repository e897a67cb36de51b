/* Hyper-V conformance, discovery (TLFS v6.0b 2.4, REFERENCE.md 1): the hypervisor-present bit,
 * the "Microsoft Hv" vendor leaf, the "Hv#1" interface, the privilege bits Linux needs, and
 * that exactly the advertised synthetic MSRs exist (an unadvertised one must #GP, TLFS 2.4.4). */
#include "guest.h"

/* Which CPUID word grants an MSR: privilege mask bits (EAX, EBX of 0x40000003), or EDX. */
enum word { EAX3, EBX3, EDX3, ALWAYS_GP };

struct msr_rule {
    uint32_t msr;
    enum word word;
    unsigned bit;
    bool readable; /* false: write-only, or reading has side effects (idle) */
    const char *name;
};

/* Synthetic MSRs and the feature bit that makes them accessible (TLFS v6.0b 2.4.4; FEATURES.md
 * 3). MSRs with no documented feature, or a root-only one, must #GP in an ordinary guest. */
static const struct msr_rule rules[] = {
    {0x40000000, EAX3, 5, true, "GUEST_OS_ID"},
    {0x40000001, EAX3, 5, true, "HYPERCALL"},
    {0x40000002, EAX3, 6, true, "VP_INDEX"},
    {0x40000003, EAX3, 7, true, "RESET"},
    {0x40000010, EAX3, 0, true, "VP_RUNTIME"},
    {0x40000020, EAX3, 1, true, "TIME_REF_COUNT"},
    {0x40000021, EAX3, 9, true, "REFERENCE_TSC"},
    {0x40000022, EAX3, 11, true, "TSC_FREQUENCY"},
    {0x40000023, EAX3, 11, true, "APIC_FREQUENCY"},
    {0x40000070, EAX3, 4, false, "EOI"},
    {0x40000071, EAX3, 4, true, "ICR"},
    {0x40000072, EAX3, 4, true, "TPR"},
    {0x40000080, EAX3, 2, true, "SCONTROL"},
    {0x40000081, EAX3, 2, true, "SVERSION"},
    {0x40000082, EAX3, 2, true, "SIEFP"},
    {0x40000083, EAX3, 2, true, "SIMP"},
    {0x40000084, EAX3, 2, true, "EOM"},
    {0x40000090, EAX3, 2, true, "SINT0"},
    {0x4000009F, EAX3, 2, true, "SINT15"},
    {0x400000B0, EAX3, 3, true, "STIMER0_CONFIG"},
    {0x400000B1, EAX3, 3, true, "STIMER0_COUNT"},
    {0x400000B7, EAX3, 3, true, "STIMER3_COUNT"},
    {0x400000E0, EAX3, 8, true, "STATS_PARTITION_RETAIL_PAGE"},
    {0x400000E3, EAX3, 8, true, "STATS_VP_INTERNAL_PAGE"},
    {0x400000F0, EAX3, 10, false, "GUEST_IDLE"},
    {0x40000100, EDX3, 10, true, "CRASH_P0"},
    {0x40000104, EDX3, 10, true, "CRASH_P4"},
    {0x40000105, EDX3, 10, true, "CRASH_CTL"},
    {0x40000106, EAX3, 13, true, "REENLIGHTENMENT_CONTROL"},
    {0x40000107, EAX3, 13, true, "TSC_EMULATION_CONTROL"},
    {0x40000108, EAX3, 13, true, "TSC_EMULATION_STATUS"},
    {0x400000F1, EDX3, 11, true, "SYNDBG_CONTROL"},
    {0x40000114, EDX3, 23, true, "STIME_UNHALTED_TIMER_CONFIG"},
    {0x40000118, EAX3, 15, true, "TSC_INVARIANT_CONTROL"},
    /* Root-only or undefined indices. */
    {0x400000C1, ALWAYS_GP, 0, true, "POWER_STATE_TRIGGER_C1"},
    {0x400000D1, ALWAYS_GP, 0, true, "POWER_STATE_CONFIG_C1"},
    {0x40000004, ALWAYS_GP, 0, true, "undefined_0x40000004"},
    {0x40000011, ALWAYS_GP, 0, true, "undefined_0x40000011"},
    {0x40000024, ALWAYS_GP, 0, true, "undefined_0x40000024"},
    {0x40000085, ALWAYS_GP, 0, true, "undefined_0x40000085"},
    {0x400000A0, ALWAYS_GP, 0, true, "undefined_0x400000A0"},
    {0x400000B8, ALWAYS_GP, 0, true, "undefined_0x400000B8"},
    {0x400000FE, ALWAYS_GP, 0, true, "undefined_0x400000FE"},
    {0x40000109, ALWAYS_GP, 0, true, "undefined_0x40000109"},
    {0x400001FF, ALWAYS_GP, 0, true, "undefined_0x400001FF"},
};

static bool has_bit(const struct cpuid_regs *f, enum word w, unsigned bit)
{
    switch (w) {
    case EAX3: return (f->eax >> bit) & 1;
    case EBX3: return (f->ebx >> bit) & 1;
    case EDX3: return (f->edx >> bit) & 1;
    default: return false;
    }
}

static void check_msrs(const struct cpuid_regs *f)
{
    char name[96];
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const struct msr_rule *r = &rules[i];
        bool adv = has_bit(f, r->word, r->bit);
        uint64_t v = 0;
        if (adv && !r->readable)
            continue; /* exists, but a read #GPs (EOI) or idles the VP (GUEST_IDLE) */
        bool ok = rdmsr_safe(r->msr, &v);
        if (adv) {
            snprintf(name, sizeof(name), "msr.advertised_readable.%s", r->name);
            check(name, ok, "rdmsr 0x%x #GP although its feature bit is set", r->msr);
        } else {
            snprintf(name, sizeof(name), "msr.unadvertised_gp.%s", r->name);
            check(name, !ok, "rdmsr 0x%x returned 0x%llx, want #GP (feature bit clear)", r->msr,
                  (unsigned long long)v);
        }
    }
    /* An unadvertised MSR must #GP on write too (written value 0 is harmless if it exists). */
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const struct msr_rule *r = &rules[i];
        if (has_bit(f, r->word, r->bit))
            continue;
        snprintf(name, sizeof(name), "msr.unadvertised_write_gp.%s", r->name);
        check(name, !wrmsr_safe(r->msr, 0), "wrmsr 0x%x succeeded, want #GP", r->msr);
    }
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("hv_discovery\n");

    struct cpuid_regs l1 = cpuid(1, 0);
    CHECK("cpuid.1.ecx31_hypervisor_present", (l1.ecx >> 31) & 1);

    struct cpuid_regs v = cpuid(0x40000000, 0);
    char vendor[13];
    memcpy(vendor, &v.ebx, 4);
    memcpy(vendor + 4, &v.ecx, 4);
    memcpy(vendor + 8, &v.edx, 4);
    vendor[12] = 0;
    printf("vendor '%s', max leaf 0x%x\n", vendor, v.eax);
    check("cpuid.40000000.vendor_microsoft_hv", memcmp(vendor, "Microsoft Hv", 12) == 0,
          "vendor '%s'", vendor);
    check("cpuid.40000000.max_leaf_range", v.eax >= 0x40000005 && v.eax <= 0x4000FFFF,
          "max leaf 0x%x, Linux needs [0x40000005, 0x4000FFFF]", v.eax);

    struct cpuid_regs i = cpuid(0x40000001, 0);
    CHECK_EQ("cpuid.40000001.hv1_signature", i.eax, 0x31237648);
    /* EBX-EDX are reserved in a read-only structure: "should be ignored" (TLFS 1.2). */

    /* "This value will be zero until the OS identity MSR is set" (TLFS v6.0b 2.4.3, v2.0A 2.4). */
    struct cpuid_regs ver = cpuid(0x40000002, 0);
    check("cpuid.40000002.zero_before_guest_os_id", ver.eax == 0 && ver.ebx == 0 && ver.ecx == 0 &&
          ver.edx == 0, "%08x %08x %08x %08x with GUEST_OS_ID = 0", ver.eax, ver.ebx, ver.ecx, ver.edx);
    if ((cpuid(0x40000003, 0).eax >> 5) & 1) {
        wrmsr(0x40000000, 0x8100000006010000ull);
        ver = cpuid(0x40000002, 0);
        printf("host build %u, version %u.%u, sp %u, branch 0x%x\n", ver.eax, ver.ebx >> 16,
               ver.ebx & 0xFFFF, ver.ecx, ver.edx);
        CHECK("cpuid.40000002.identity_after_guest_os_id", ver.eax != 0 || ver.ebx != 0);
        wrmsr(0x40000000, 0);
    }

    struct cpuid_regs f = cpuid(0x40000003, 0);
    printf("privileges low 0x%x high 0x%x power 0x%x misc 0x%x\n", f.eax, f.ebx, f.ecx, f.edx);
    /* Linux 6.1: bit 5 (hypercall MSRs) and bit 6 (VP index) are mandatory for detection; bit 1
     * (reference counter) and bit 9 (reference TSC page) give its clocksources. */
    CHECK("cpuid.40000003.eax1_ref_counter", (f.eax >> 1) & 1);
    CHECK("cpuid.40000003.eax5_hypercall_msrs", (f.eax >> 5) & 1);
    CHECK("cpuid.40000003.eax6_vp_index", (f.eax >> 6) & 1);
    CHECK("cpuid.40000003.eax9_reference_tsc", (f.eax >> 9) & 1);
    /* REQ: bits 0-3, 6, 8, 12, 13 of the high privilege word must be clear in a guest. */
    check("cpuid.40000003.ebx_root_only_bits_clear", (f.ebx & 0x314F) == 0, "ebx 0x%x & 0x314F",
          f.ebx);
    /* Frequency MSRs: EAX[11] and EDX[8] only make sense together (Linux needs both). */
    CHECK("cpuid.40000003.frequency_bits_consistent", ((f.eax >> 11) & 1) == ((f.edx >> 8) & 1));
    /* Message-mode stimers and SynIC messages need the SynIC MSRs. */
    CHECK("cpuid.40000003.postmessage_needs_synic", !((f.ebx >> 4) & 1) || ((f.eax >> 2) & 1));
    CHECK("cpuid.40000003.signalevent_needs_synic", !((f.ebx >> 5) & 1) || ((f.eax >> 2) & 1));
    CHECK("cpuid.40000003.direct_stimer_needs_stimer", !((f.edx >> 19) & 1) || ((f.eax >> 3) & 1));

    struct cpuid_regs h = cpuid(0x40000004, 0);
    printf("hints 0x%x spin retries 0x%x\n", h.eax, h.ebx);
    /* Ex processor masks only mean something with the flush or IPI calls recommended. */
    CHECK("cpuid.40000004.ex_masks_need_flush_or_ipi",
          !((h.eax >> 11) & 1) || ((h.eax >> 2) & 1) || ((h.eax >> 10) & 1));
    /* APIC-access recommendation needs the APIC MSRs (EAX[4]). */
    CHECK("cpuid.40000004.apic_hint_needs_apic_msrs", !((h.eax >> 3) & 1) || ((f.eax >> 4) & 1));

    struct cpuid_regs lim = cpuid(0x40000005, 0);
    printf("max VPs %u, max LPs %u\n", lim.eax, lim.ebx);
    /* REQ: with "no limit" (0xFFFFFFFF) the non-Ex flush calls must not be recommended. */
    CHECK("cpuid.40000005.unlimited_vps_needs_ex",
          lim.eax != 0xFFFFFFFFu || !((h.eax >> 1) & 3));

    /* No second hypervisor signature above the maximum leaf (Linux would prefer KVM's). */
    struct cpuid_regs k = cpuid(0x40000100, 0);
    CHECK("cpuid.40000100.no_kvm_signature", k.ebx != 0x4B4D564B /* "KVMK" */);

    check_msrs(&f);
    test_finish();
}
