/* The CPU's default CPUID table: GenuineIntel, advertising only what this interpreter
 * implements (SSE-family bits describe the FPU/SIMD part's baseline). */
#include <string.h>

#include "cpu/vcpu.h"

struct cpuid_leaf {
    uint32_t leaf, subleaf;
    bool indexed;           /* ECX selects a subleaf */
    uint32_t r[4];          /* EAX EBX ECX EDX */
};

#define B(n) (1u << (n))
static const struct cpuid_leaf cpuid_table[] = {
    /* Max basic leaf 0xD; "GenuineIntel" in EBX EDX ECX order. */
    {0x0, 0, false, {0xd, 0x756e6547, 0x6c65746e, 0x49656e69}},
    /* Family 6 model 0x8C stepping 1; CLFLUSH line 64 bytes; one logical processor.
     * ECX: SSE3, PCLMULQDQ, SSSE3, CX16, PCID, SSE4.1, SSE4.2, MOVBE, POPCNT, AES, XSAVE,
     * RDRAND. EDX: FPU, DE, PSE, TSC, MSR, PAE, MCE, CX8, SEP, MTRR, PGE, MCA (IA32_MCG_CAP,
     * MSR_MC_BANKS banks), CMOV, PAT, CLFSH, MMX, FXSR, SSE, SSE2; MONITOR/MWAIT (leaf 5). */
    {0x1, 0, false, {0x000806c1, 0x00010800,
                     B(0) | B(1) | B(3) | B(9) | B(13) | B(17) | B(19) | B(20) | B(22) | B(23) | B(25) | B(26) |
                         B(30),
                     B(0) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | B(9) | B(11) | B(12) |
                         B(13) | B(14) | B(15) | B(16) | B(19) | B(23) | B(24) | B(25) | B(26)}},
    /* MONITOR/MWAIT: 64-byte monitor line; ECX: extensions enumerated, interrupts as break
     * events; EDX: no C-state sub-states, so that an OS idles with HLT (Linux chooses MWAIT
     * for idle only when MWAIT C1 sub-states exist). */
    {0x5, 0, false, {64, 64, B(0) | B(1), 0}},
    /* FSGSBASE, IA32_TSC_ADJUST, BMI1, SMEP, BMI2, ERMS, INVPCID, RDSEED, ADX, SMAP; UMIP,
     * LA57, RDPID; EDX: IBRS/IBPB, STIBP (IA32_SPEC_CTRL, IA32_PRED_CMD), ARCH_CAPABILITIES,
     * SSBD. */
    {0x7, 0, true,
     {0, B(0) | B(1) | B(3) | B(7) | B(8) | B(9) | B(10) | B(18) | B(19) | B(20), B(2) | B(16) | B(22),
      B(26) | B(27) | B(29) | B(31)}},
    /* XSAVE components x87 and SSE only: 512-byte legacy region + 64-byte header (xsave.c);
     * subleaf 1: XSAVEOPT, XSAVEC and XSAVES/IA32_XSS (no XGETBV ECX=1); EBX the compacted
     * size for XCR0 | IA32_XSS, ECX:EDX the IA32_XSS bits (none: no supervisor component). */
    {0xd, 0, true, {B(0) | B(1), 576, 576, 0}},
    {0xd, 1, true, {B(0) | B(1) | B(3), 576, 0, 0}},
    {0x80000000, 0, false, {0x80000008, 0, 0, 0}},
    /* LAHF/SAHF, LZCNT, PREFETCHW; SYSCALL, NX, 1 GiB pages, RDTSCP, long mode. */
    {0x80000001, 0, false, {0, 0, B(0) | B(5) | B(8), B(11) | B(20) | B(26) | B(27) | B(29)}},
    {0x80000002, 0, false, {0x6d657668, 0x69762075, 0x61757472, 0x5043206c}}, /* "hvemu virtual CP" */
    {0x80000003, 0, false, {0x00000055, 0, 0, 0}},                              /* "U" */
    {0x80000004, 0, false, {0, 0, 0, 0}},
    {0x80000007, 0, false, {0, 0, 0, B(8)}}, /* invariant TSC */
    /* Linear-address width 57: LA57 is supported (CPUID.7.0:ECX[16]). */
    {0x80000008, 0, false, {MMU_MAXPHYADDR | (57u << 8), 0, 0, 0}},
};

void cpu_cpuid_default(const struct vcpu *vp, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    memset(out, 0, 4 * sizeof(uint32_t));
    for (size_t k = 0; k < ARRAY_SIZE(cpuid_table); k++) {
        const struct cpuid_leaf *l = &cpuid_table[k];
        if (l->leaf == leaf && (!l->indexed || l->subleaf == subleaf)) {
            memcpy(out, l->r, sizeof(l->r));
            break;
        }
    }
    if (leaf == 1) {
        out[1] |= (uint32_t)vp->apic_id << 24;
        if (vp->cr4 & CR4_OSXSAVE)
            out[2] |= B(27);
    }
}
