/* The bundled default guest: a banner, what CPUID says about the CPU and the hypervisor, a few
 * self-checks of the interpreter, the TSC before and after, then ACPI power-off (exit status 0). */
#include "guest.h"

static void vendor_string(uint32_t leaf, char out[13], bool hv_order)
{
    struct cpuid_regs r = cpuid(leaf, 0);
    /* Leaf 0 spells the vendor in EBX, EDX, ECX; the hypervisor leaf in EBX, ECX, EDX. */
    uint32_t w[3] = {r.ebx, hv_order ? r.ecx : r.edx, hv_order ? r.edx : r.ecx};
    memcpy(out, w, 12);
    out[12] = '\0';
}

static uint64_t fib(unsigned n)
{
    uint64_t a = 0, b = 1;
    for (unsigned i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

int main(uint32_t mb_info)
{
    char vendor[13];
    uint64_t tsc0 = rdtsc();

    printf("hvemu default guest\n");
    if (guest_mb_magic == 0x2BADB002) {
        const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)mb_info;
        printf("booted by: %s, memory: %u KiB low, %u KiB high\n",
               (mbi->flags & (1u << 9)) ? (const char *)(uintptr_t)mbi->boot_loader_name : "?",
               mbi->mem_lower, mbi->mem_upper);
    }

    struct cpuid_regs l0 = cpuid(0, 0);
    vendor_string(0, vendor, false);
    printf("cpu vendor: %s (max leaf 0x%x)\n", vendor, l0.eax);

    struct cpuid_regs l1 = cpuid(1, 0);
    bool hv = (l1.ecx >> 31) & 1;
    printf("hypervisor present: %s\n", hv ? "yes" : "no");
    if (hv) {
        vendor_string(0x40000000, vendor, true);
        uint32_t max_hv = cpuid(0x40000000, 0).eax;
        printf("hypervisor vendor: %s (max leaf 0x%x)\n", vendor, max_hv);
        if (max_hv >= 0x40000003) {
            /* TLFS 2.4: interface signature, then the partition privilege mask (EAX/EBX). */
            uint32_t sig = cpuid(0x40000001, 0).eax;
            char s[5] = {(char)sig, (char)(sig >> 8), (char)(sig >> 16), (char)(sig >> 24), 0};
            struct cpuid_regs f = cpuid(0x40000003, 0);
            printf("hypervisor interface: %s, privileges 0x%08x%08x\n", s, f.ebx, f.eax);
        }
    }

    /* Volatile inputs keep the compiler from folding the checks away. */
    volatile uint64_t n90 = 90, m1 = 123456789, m2 = 987654321, d1 = 0xFFFFFFFFFFFFull, d2 = 0x12345;
    volatile unsigned top = 1000;
    unsigned bad = 0;
    bad += fib((unsigned)n90) != 2880067194370816120ull;
    bad += m1 * m2 != 121932631112635269ull;
    bad += d1 / d2 != 0xE1004FFBull;
    uint64_t sum = 0;
    for (unsigned i = 1; i <= top; i++)
        sum += i * i;
    bad += sum != 333833500;
    printf("self-checks: %s\n", bad ? "FAILED" : "ok");

    uint64_t tsc1 = rdtsc();
    printf("tsc: %llu -> %llu (+%llu)\n", (unsigned long long)tsc0, (unsigned long long)tsc1,
           (unsigned long long)(tsc1 - tsc0));
    printf("powering off\n");
    return bad ? GUEST_EXIT_FAIL : 0;
}
