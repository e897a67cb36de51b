/* FPU/SIMD state images seen from the guest: FXSAVE/FXRSTOR (64-bit and 32-bit layouts),
 * FSAVE/FRSTOR and FNSTENV/FLDENV (32-bit protected-mode layout), FIP/FCS/FOP/FDP in FNSTENV (32-
 * and 16-bit) and FXSAVE64, XSAVE/XSAVEOPT/XSAVEC/XRSTOR
 * with XCR0 = x87|SSE, XGETBV, CPUID leaf 0xD, and XSAVES/XRSTORS with IA32_XSS when CPUID
 * advertises them (SDM Vol 1 8.1.10, 10.5, 13; Vol 2 FXSAVE, XSAVE*, XRSTOR*). */
#include "guest.h"

#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)
#define MSR_IA32_XSS 0xDA0u
#define V_GP (TRAP_CAUGHT | 13)
#define V_UD (TRAP_CAUGHT | 6)

static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }

static uint8_t buf_a[1024] __attribute__((aligned(64)));
static uint8_t buf_b[1024] __attribute__((aligned(64)));

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static void st32(uint8_t *p, uint32_t v) { for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k)); }
static void st64(uint8_t *p, uint64_t v) { st32(p, (uint32_t)v); st32(p + 4, (uint32_t)(v >> 32)); }

static uint32_t stmxcsr(void)
{
    uint32_t m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return m;
}
static void ldmxcsr(uint32_t m) { __asm__ volatile("ldmxcsr %0" ::"m"(m)); }
static uint16_t fnstcw(void)
{
    uint16_t w;
    __asm__ volatile("fnstcw %0" : "=m"(w));
    return w;
}
static uint16_t fnstsw(void)
{
    uint16_t w;
    __asm__ volatile("fnstsw %0" : "=a"(w));
    return w;
}
static void set_xmm0(uint64_t lo, uint64_t hi)
{
    __asm__ volatile("movq %0, %%xmm0\n\tmovq %1, %%xmm1\n\tpunpcklqdq %%xmm1, %%xmm0" ::"r"(lo), "r"(hi));
}
static uint64_t xmm0_lo(void)
{
    uint64_t v;
    __asm__ volatile("movq %%xmm0, %0" : "=r"(v));
    return v;
}
static uint64_t xmm0_hi(void)
{
    uint64_t v;
    __asm__ volatile("pshufd $0xee, %%xmm0, %%xmm1\n\tmovq %%xmm1, %0" : "=r"(v));
    return v;
}
/* Pops st(0) as a double's bit pattern. */
static uint64_t fstp64(void)
{
    uint64_t v;
    __asm__ volatile("fstpl %0" : "=m"(v));
    return v;
}

#define D_2_5 0x4004000000000000ull /* 2.5 */
static const uint64_t two_and_half = D_2_5;

/* The reference x87/SSE state: FCW 0x027f, st0 = 2.5, st1 = 1.0 (TOP 6), MXCSR 0x1fa0 | PE,
 * xmm0 = a pattern. */
static void load_reference(void)
{
    __asm__ volatile("fninit");
    uint16_t cw = 0x027f;
    __asm__ volatile("fldcw %0\n\tfld1\n\tfldl %1" ::"m"(cw), "m"(two_and_half));
    ldmxcsr(0x1fa0);
    set_xmm0(0x0123456789abcdefull, 0xfedcba9876543210ull);
}

static void fxsave64(void *p) { __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])p)); }
static void fxsave32(void *p) { __asm__ volatile("fxsave %0" : "=m"(*(uint8_t(*)[512])p)); }
static void fxrstor64(void *p) { __asm__ volatile("fxrstor64 %0" ::"m"(*(uint8_t(*)[512])p)); }
static void fxsave_odd(void *p) { __asm__ volatile("fxsave %0" : "=m"(*(uint8_t(*)[512])((uint8_t *)p + 8))); }

static void check_legacy(const char *what, const uint8_t *b)
{
    char n[80];
    snprintf(n, sizeof(n), "%s: fcw at 0", what);
    CHECK_EQ(n, ld16(b), 0x027f);
    snprintf(n, sizeof(n), "%s: fsw at 2 (top 6)", what);
    CHECK_EQ(n, ld16(b + 2) & 0x3800, 6u << 11);
    snprintf(n, sizeof(n), "%s: abridged ftw at 4", what);
    CHECK_EQ(n, b[4], 0xc0);
    snprintf(n, sizeof(n), "%s: mxcsr at 24", what);
    CHECK_EQ(n, ld32(b + 24), 0x1fa0);
    snprintf(n, sizeof(n), "%s: mxcsr_mask at 28", what);
    CHECK(n, ld32(b + 28) == 0xffff || ld32(b + 28) == 0xffbf);
    snprintf(n, sizeof(n), "%s: st0 = 2.5 at 32", what);
    CHECK(n, ld64(b + 32) == 0xa000000000000000ull && ld16(b + 40) == 0x4000);
    snprintf(n, sizeof(n), "%s: st1 = 1.0 at 48", what);
    CHECK(n, ld64(b + 48) == 0x8000000000000000ull && ld16(b + 56) == 0x3fff);
    snprintf(n, sizeof(n), "%s: xmm0 at 160", what);
    CHECK(n, ld64(b + 160) == 0x0123456789abcdefull && ld64(b + 168) == 0xfedcba9876543210ull);
}

static void test_fxsave(void)
{
    load_reference();
    memset(buf_a, 0x5a, sizeof(buf_a));
    memset(buf_b, 0x5a, sizeof(buf_b));
    CHECK_EQ("fxsave64 runs", try_call(fxsave64, buf_a), 0);
    CHECK_EQ("fxsave (32-bit layout) runs", try_call(fxsave32, buf_b), 0);
    check_legacy("fxsave64", buf_a);
    check_legacy("fxsave32", buf_b);
    CHECK("fxsave: layouts share the register area", memcmp(buf_a + 24, buf_b + 24, 416 - 24) == 0);
    CHECK_EQ("fxsave: misaligned -> #GP", try_call(fxsave_odd, buf_a), V_GP);

    /* Round trip: change everything, restore, read back. */
    __asm__ volatile("fninit");
    ldmxcsr(0x1f80);
    set_xmm0(0, 0);
    CHECK_EQ("fxrstor64 runs", try_call(fxrstor64, buf_a), 0);
    CHECK_EQ("fxrstor: fcw", fnstcw(), 0x027f);
    CHECK_EQ("fxrstor: mxcsr", stmxcsr(), 0x1fa0);
    CHECK_EQ("fxrstor: xmm0 low", xmm0_lo(), 0x0123456789abcdefull);
    CHECK_EQ("fxrstor: xmm0 high", xmm0_hi(), 0xfedcba9876543210ull);
    CHECK_EQ("fxrstor: fsw top", fnstsw() & 0x3800, 6u << 11);
    CHECK_EQ("fxrstor: st0 = 2.5", fstp64(), D_2_5);
    CHECK_EQ("fxrstor: st1 = 1.0", fstp64(), 0x3ff0000000000000ull);
    /* Edited image: abridged tag for st0 only, a new xmm0. */
    st64(buf_a + 160, 0x1111222233334444ull);
    st32(buf_a + 24, 0x1f80 | 0x8000); /* FTZ */
    CHECK_EQ("fxrstor edited image runs", try_call(fxrstor64, buf_a), 0);
    CHECK_EQ("fxrstor edited: mxcsr ftz", stmxcsr(), 0x9f80);
    CHECK_EQ("fxrstor edited: xmm0", xmm0_lo(), 0x1111222233334444ull);
    st32(buf_a + 24, 0x10000); /* reserved MXCSR bit */
    CHECK_EQ("fxrstor: reserved mxcsr bit -> #GP", try_call(fxrstor64, buf_a), V_GP);
    CHECK_EQ("fxrstor #GP: mxcsr unchanged", stmxcsr(), 0x9f80);
    ldmxcsr(0x1f80);
    __asm__ volatile("fninit");
}

static void test_fsave(void)
{
    load_reference();
    uint8_t env[28], img[108];
    memset(env, 0x5a, sizeof(env));
    __asm__ volatile("fnstenv %0" : "=m"(env));
    CHECK_EQ("fnstenv: fcw at 0", ld16(env), 0x027f);
    CHECK_EQ("fnstenv: fsw at 4 (top 6)", ld16(env + 4) & 0x3800, 6u << 11);
    CHECK_EQ("fnstenv: full tag word at 8", ld16(env + 8), 0x0fff);
    CHECK_EQ("fnstenv: masks all exceptions", fnstcw(), 0x027f | 0x3f);
    CHECK_EQ("fnstenv: stack kept", fnstsw() & 0x3800, 6u << 11);

    /* FLDENV with another control word and an empty stack. */
    uint8_t env2[28];
    memcpy(env2, env, sizeof(env2));
    env2[0] = 0x7b; env2[1] = 0x03;      /* FCW 0x037b (ZM clear) */
    env2[4] = 0; env2[5] = 0;            /* FSW: TOP 0, no flags */
    env2[8] = 0xff; env2[9] = 0xff;      /* all empty */
    __asm__ volatile("fldenv %0" ::"m"(env2));
    CHECK_EQ("fldenv: fcw", fnstcw(), 0x037b);
    CHECK_EQ("fldenv: fsw", fnstsw(), 0);
    __asm__ volatile("fninit");

    load_reference();
    memset(img, 0x5a, sizeof(img));
    __asm__ volatile("fnsave %0" : "=m"(img));
    CHECK_EQ("fnsave: fcw at 0", ld16(img), 0x027f);
    CHECK_EQ("fnsave: fsw at 4", ld16(img + 4) & 0x3800, 6u << 11);
    CHECK_EQ("fnsave: tag word at 8", ld16(img + 8), 0x0fff);
    CHECK("fnsave: st0 = 2.5 at 28", ld64(img + 28) == 0xa000000000000000ull && ld16(img + 36) == 0x4000);
    CHECK("fnsave: st1 = 1.0 at 38", ld64(img + 38) == 0x8000000000000000ull && ld16(img + 46) == 0x3fff);
    CHECK_EQ("fnsave: reinitialises fcw", fnstcw(), 0x037f);
    CHECK_EQ("fnsave: reinitialises fsw", fnstsw(), 0);
    __asm__ volatile("frstor %0" ::"m"(img));
    CHECK_EQ("frstor: fcw", fnstcw(), 0x027f);
    CHECK_EQ("frstor: st0 = 2.5", fstp64(), D_2_5);
    CHECK_EQ("frstor: st1 = 1.0", fstp64(), 0x3ff0000000000000ull);
    /* A register edited in the image comes back. */
    __asm__ volatile("fninit\n\tfld1\n\tfnsave %0" : "=m"(img));
    st64(img + 28, 0xc000000000000000ull); /* 1.0 -> 1.5 */
    __asm__ volatile("frstor %0" ::"m"(img));
    CHECK_EQ("frstor: edited st0 = 1.5", fstp64(), 0x3ff8000000000000ull);
    __asm__ volatile("fninit");
}

/* ---- FIP/FCS/FOP/FDP (SDM Vol 1 8.1.8-8.1.10) ---- */
static const double ptr_operand = 1.5;

static void test_pointers(void)
{
    uint8_t env[28], env16[16], fx[512] __attribute__((aligned(16)));
    uint64_t fip;
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    memset(env16, 0x5a, sizeof(env16));
    __asm__ volatile("fninit\n\t"
                     "lea 1f(%%rip), %0\n"
                     "1:\tfldl %3\n\t"
                     "fnclex\n\t"
                     "fnstenv %1\n\t"
                     "data16 fnstenv (%4)\n\t"
                     "fxsave64 %2"
                     : "=&r"(fip), "=m"(env), "=m"(fx)
                     : "m"(ptr_operand), "r"(env16)
                     : "memory");
    const uint8_t *code = (const uint8_t *)fip;
    uint16_t fop = (uint16_t)((code[0] & 7) << 8 | code[1]);
    uint64_t fdp = (uint64_t)&ptr_operand;
    CHECK_EQ("fnstenv: fip = the fld (fnclex and fnstenv do not count)", ld32(env + 12), (uint32_t)fip);
    CHECK_EQ("fnstenv: fcs", ld16(env + 16), cs);
    CHECK_EQ("fnstenv: fop", ld16(env + 18) & 0x7ff, fop);
    CHECK_EQ("fnstenv: fdp = the operand", ld32(env + 20), (uint32_t)fdp);
    CHECK_EQ("o16 fnstenv: fip low 16 bits at 6", ld16(env16 + 6), (uint16_t)fip);
    CHECK_EQ("o16 fnstenv: fcs at 8", ld16(env16 + 8), cs);
    CHECK_EQ("o16 fnstenv: fdp low 16 bits at 10", ld16(env16 + 10), (uint16_t)fdp);
    CHECK_EQ("o16 fnstenv: 14 bytes", env16[14], 0x5a);
    CHECK_EQ("fxsave64: fop", ld16(fx + 6), fop);
    CHECK_EQ("fxsave64: 64-bit fip", ld64(fx + 8), fip);
    CHECK_EQ("fxsave64: 64-bit fdp", ld64(fx + 16), fdp);
    __asm__ volatile("fninit\n\tfnstenv %0" : "=m"(env));
    CHECK("fninit clears fip, fop, fdp", ld32(env + 12) == 0 && ld32(env + 16) == 0 && ld32(env + 20) == 0);
}

/* ---- XSAVE family ---- */
static uint64_t rfbm_arg = 3;
static void xsave_fn(void *p) { __asm__ volatile("xsave64 %0" : "=m"(*(uint8_t(*)[576])p) : "a"((uint32_t)rfbm_arg), "d"((uint32_t)(rfbm_arg >> 32))); }
static void xsave32_fn(void *p) { __asm__ volatile("xsave %0" : "=m"(*(uint8_t(*)[576])p) : "a"((uint32_t)rfbm_arg), "d"((uint32_t)(rfbm_arg >> 32))); }
static void xsaveopt_fn(void *p) { __asm__ volatile("xsaveopt64 %0" : "=m"(*(uint8_t(*)[576])p) : "a"((uint32_t)rfbm_arg), "d"((uint32_t)(rfbm_arg >> 32))); }
static void xsavec_fn(void *p) { __asm__ volatile("xsavec64 %0" : "=m"(*(uint8_t(*)[576])p) : "a"((uint32_t)rfbm_arg), "d"((uint32_t)(rfbm_arg >> 32))); }
static void xrstor_fn(void *p) { __asm__ volatile("xrstor64 %0" ::"m"(*(uint8_t(*)[576])p), "a"((uint32_t)rfbm_arg), "d"((uint32_t)(rfbm_arg >> 32))); }
static void xsaves_fn(void *p) { __asm__ volatile("xsaves64 %0" : "=m"(*(uint8_t(*)[576])p) : "a"((uint32_t)rfbm_arg), "d"((uint32_t)(rfbm_arg >> 32))); }
static void xrstors_fn(void *p) { __asm__ volatile("xrstors64 %0" ::"m"(*(uint8_t(*)[576])p), "a"((uint32_t)rfbm_arg), "d"((uint32_t)(rfbm_arg >> 32))); }
static void xsetbv_fn(void *p)
{
    uint64_t v = *(uint64_t *)p;
    __asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static uint64_t xgetbv(uint32_t idx)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
    return (uint64_t)hi << 32 | lo;
}
static void xgetbv1_fn(void *p) { *(uint64_t *)p = xgetbv(1); }

/* XRSTOR with XSTATE_BV = 0: both components to their initial configuration. */
static void init_both(void)
{
    memset(buf_b, 0, 576);
    st32(buf_b + 24, 0x1f80);
    rfbm_arg = 3;
    try_call(xrstor_fn, buf_b);
}

static void test_xsave(void)
{
    struct cpuid_regs l1 = cpuid(1, 0);
    if (!CHECK("cpuid: xsave advertised", l1.ecx & (1u << 26)))
        return;
    write_cr4(read_cr4() | CR4_OSXSAVE);
    CHECK("cpuid: osxsave reflected", cpuid(1, 0).ecx & (1u << 27));
    struct cpuid_regs d0 = cpuid(0xd, 0);
    CHECK_EQ("cpuid 0xd.0: eax x87|sse", d0.eax & 3, 3);
    uint64_t x = 3;
    CHECK_EQ("xsetbv xcr0 = 3", try_call(xsetbv_fn, &x), 0);
    CHECK_EQ("xgetbv(0) = 3", xgetbv(0), 3);
    x = 2;
    CHECK_EQ("xsetbv xcr0 without x87 -> #GP", try_call(xsetbv_fn, &x), V_GP);
    d0 = cpuid(0xd, 0);
    CHECK_EQ("cpuid 0xd.0: ebx = 576 for xcr0 3", d0.ebx, 576);
    CHECK("cpuid 0xd.0: ecx >= ebx", d0.ecx >= d0.ebx);

    /* XSAVE writes exactly EBX bytes: the guard after them stays. */
    load_reference();
    memset(buf_a, 0xa5, sizeof(buf_a));
    memset(buf_a + 512, 0, 64);
    rfbm_arg = 3;
    CHECK_EQ("xsave64 runs", try_call(xsave_fn, buf_a), 0);
    check_legacy("xsave64", buf_a);
    CHECK_EQ("xsave: xstate_bv = 3", ld64(buf_a + 512), 3);
    CHECK_EQ("xsave: xcomp_bv = 0", ld64(buf_a + 520), 0);
    bool guard = true;
    for (unsigned k = d0.ebx; k < sizeof(buf_a); k++)
        guard = guard && buf_a[k] == 0xa5;
    CHECK("xsave: nothing written past cpuid size", guard);
    memset(buf_b, 0, sizeof(buf_b));
    fxsave64(buf_b);
    CHECK("xsave: legacy region equals fxsave64", memcmp(buf_a, buf_b, 416) == 0);
    memset(buf_a, 0, 576);
    memset(buf_b, 0, 576);
    CHECK_EQ("xsave (no rex.w) runs", try_call(xsave32_fn, buf_a), 0);
    fxsave32(buf_b);
    CHECK("xsave: legacy region equals fxsave32", memcmp(buf_a, buf_b, 416) == 0);

    /* Initial state (reached through XRSTOR's init optimisation): XSTATE_BV bits clear.
     * FNINIT alone keeps the register contents, so x87 may still count as in use. */
    init_both();
    memset(buf_a, 0, 576);
    st64(buf_a + 512, 0xff); /* only the RFBM bits are written */
    try_call(xsave_fn, buf_a);
    CHECK_EQ("xsave init state: rfbm bits 0, others kept", ld64(buf_a + 512), 0xfc);
    CHECK_EQ("xrstor init: fcw 0x37f", fnstcw(), 0x037f);
    CHECK_EQ("xrstor init: mxcsr 0x1f80", stmxcsr(), 0x1f80);
    CHECK_EQ("xrstor init: xmm0 zero", xmm0_lo() | xmm0_hi(), 0);
    __asm__ volatile("fld1");
    try_call(xsave_fn, buf_a);
    CHECK_EQ("xsave x87 in use: xstate_bv = 1", ld64(buf_a + 512) & 3, 1);
    init_both();
    set_xmm0(1, 0);
    try_call(xsave_fn, buf_a);
    CHECK_EQ("xsave sse in use: xstate_bv = 2", ld64(buf_a + 512) & 3, 2);
    init_both();
    ldmxcsr(0x1fc0);
    try_call(xsave_fn, buf_a);
    CHECK_EQ("xsave mxcsr changed: sse in use", ld64(buf_a + 512) & 3, 2);
    ldmxcsr(0x1f80);
    rfbm_arg = 1;
    load_reference();
    memset(buf_a, 0, 576);
    try_call(xsave_fn, buf_a);
    CHECK_EQ("xsave rfbm 1: xstate_bv = 1", ld64(buf_a + 512), 1);
    CHECK_EQ("xsave rfbm 1: xmm0 not written", ld64(buf_a + 160), 0);
    CHECK_EQ("xsave rfbm 1: fcw written", ld16(buf_a), 0x027f);
    rfbm_arg = 3;
    CHECK_EQ("xsave misaligned -> #GP", try_call(xsave_fn, buf_a + 16), V_GP);
    CHECK_EQ("xsaveopt runs", try_call(xsaveopt_fn, buf_a), 0);
    CHECK_EQ("xsaveopt: xstate_bv = 3", ld64(buf_a + 512), 3);

    /* XSAVEC: compacted header. */
    if (CHECK("cpuid 0xd.1: xsavec advertised", cpuid(0xd, 1).eax & 2)) {
        memset(buf_a, 0, 576);
        CHECK_EQ("xsavec runs", try_call(xsavec_fn, buf_a), 0);
        CHECK_EQ("xsavec: xcomp_bv = bit 63 | 3", ld64(buf_a + 520), 0x8000000000000003ull);
        CHECK_EQ("xsavec: xstate_bv = 3", ld64(buf_a + 512), 3);
        check_legacy("xsavec", buf_a);
        __asm__ volatile("fninit");
        set_xmm0(0, 0);
        CHECK_EQ("xrstor compacted runs", try_call(xrstor_fn, buf_a), 0);
        CHECK_EQ("xrstor compacted: fcw", fnstcw(), 0x027f);
        CHECK_EQ("xrstor compacted: xmm0", xmm0_lo(), 0x0123456789abcdefull);
        st64(buf_a + 520, 0x8000000000000001ull); /* XSTATE_BV 3 not a subset of XCOMP_BV */
        CHECK_EQ("xrstor compacted: xstate_bv outside xcomp_bv -> #GP", try_call(xrstor_fn, buf_a), V_GP);
    }

    /* XRSTOR standard form and the init optimisation. */
    load_reference();
    memset(buf_a, 0, 576);
    try_call(xsave_fn, buf_a);
    __asm__ volatile("fninit");
    ldmxcsr(0x1f80);
    set_xmm0(0, 0);
    CHECK_EQ("xrstor runs", try_call(xrstor_fn, buf_a), 0);
    CHECK_EQ("xrstor: fcw", fnstcw(), 0x027f);
    CHECK_EQ("xrstor: mxcsr", stmxcsr(), 0x1fa0);
    CHECK_EQ("xrstor: xmm0", xmm0_hi(), 0xfedcba9876543210ull);
    CHECK_EQ("xrstor: st0 = 2.5", fstp64(), D_2_5);
    st64(buf_a + 512, 1); /* SSE component not in XSTATE_BV: XMM to init, MXCSR still loaded */
    set_xmm0(5, 6);
    try_call(xrstor_fn, buf_a);
    CHECK_EQ("xrstor init opt: xmm0 zeroed", xmm0_lo() | xmm0_hi(), 0);
    CHECK_EQ("xrstor init opt: mxcsr from image", stmxcsr(), 0x1fa0);
    CHECK_EQ("xrstor init opt: x87 restored", fnstcw(), 0x027f);
    st64(buf_a + 512, 2); /* x87 not in XSTATE_BV: FCW 0x37f, empty stack */
    try_call(xrstor_fn, buf_a);
    CHECK_EQ("xrstor init opt: fcw reset", fnstcw(), 0x037f);
    CHECK_EQ("xrstor init opt: fsw reset", fnstsw(), 0);
    CHECK_EQ("xrstor init opt: xmm0 restored", xmm0_lo(), 0x0123456789abcdefull);
    rfbm_arg = 2; /* x87 not requested: left alone */
    __asm__ volatile("fld1");
    st64(buf_a + 512, 0);
    try_call(xrstor_fn, buf_a);
    CHECK_EQ("xrstor rfbm 2: x87 untouched", fstp64(), 0x3ff0000000000000ull);
    rfbm_arg = 3;
    st64(buf_a + 512, 4); /* a component outside XCR0 */
    CHECK_EQ("xrstor: xstate_bv outside xcr0 -> #GP", try_call(xrstor_fn, buf_a), V_GP);
    st64(buf_a + 512, 3);
    st64(buf_a + 528, 1); /* reserved header bytes */
    CHECK_EQ("xrstor: reserved header -> #GP", try_call(xrstor_fn, buf_a), V_GP);
    st64(buf_a + 528, 0);
    st32(buf_a + 24, 0x10000);
    CHECK_EQ("xrstor: reserved mxcsr -> #GP", try_call(xrstor_fn, buf_a), V_GP);
    st32(buf_a + 24, 0x1f80);
    CHECK_EQ("xrstor misaligned -> #GP", try_call(xrstor_fn, buf_a + 8), V_GP);
    __asm__ volatile("fninit");
    ldmxcsr(0x1f80);

    /* XSAVES/XRSTORS with IA32_XSS, when advertised. */
    struct cpuid_regs d1 = cpuid(0xd, 1);
    uint64_t v = 0;
    if (d1.eax & 4) {
        CHECK_EQ("xgetbv(1) runs", try_call(xgetbv1_fn, &v), 0);
        CHECK_EQ("xgetbv(1) after fninit: xinuse & 1 = 0", v & 1, 0);
    } else {
        CHECK_EQ("xgetbv(1) without cpuid bit -> #GP", try_call(xgetbv1_fn, &v), V_GP);
    }
    if (!(d1.eax & 8)) {
        printf("xsaves not advertised: skipped\n");
        CHECK_EQ("xsaves not advertised -> #UD", try_call(xsaves_fn, buf_a), V_UD);
        return;
    }
    CHECK_EQ("cpuid 0xd.1: ebx = size for xcr0|xss", d1.ebx, 576);
    CHECK("ia32_xss reads 0", rdmsr_safe(MSR_IA32_XSS, &v) && v == 0);
    CHECK("ia32_xss accepts 0", wrmsr_safe(MSR_IA32_XSS, 0));
    CHECK("ia32_xss rejects x87 bit", !wrmsr_safe(MSR_IA32_XSS, 1));
    CHECK("ia32_xss rejects bit 8", !wrmsr_safe(MSR_IA32_XSS, 1u << 8));
    load_reference();
    memset(buf_a, 0, 576);
    CHECK_EQ("xsaves runs", try_call(xsaves_fn, buf_a), 0);
    CHECK_EQ("xsaves: xcomp_bv = bit 63 | 3", ld64(buf_a + 520), 0x8000000000000003ull);
    CHECK_EQ("xsaves: xstate_bv = 3", ld64(buf_a + 512), 3);
    check_legacy("xsaves", buf_a);
    __asm__ volatile("fninit");
    ldmxcsr(0x1f80);
    set_xmm0(0, 0);
    CHECK_EQ("xrstors runs", try_call(xrstors_fn, buf_a), 0);
    CHECK_EQ("xrstors: fcw", fnstcw(), 0x027f);
    CHECK_EQ("xrstors: mxcsr", stmxcsr(), 0x1fa0);
    CHECK_EQ("xrstors: xmm0", xmm0_lo(), 0x0123456789abcdefull);
    CHECK_EQ("xrstors: st0", fstp64(), D_2_5);
    CHECK_EQ("xsaves misaligned -> #GP", try_call(xsaves_fn, buf_a + 32), V_GP);
    CHECK_EQ("xrstors misaligned -> #GP", try_call(xrstors_fn, buf_a + 32), V_GP);
    CHECK_EQ("xsaves at cpl 3 -> #GP", try_call_user(xsaves_fn, buf_a), V_GP);
    CHECK_EQ("xrstors at cpl 3 -> #GP", try_call_user(xrstors_fn, buf_a), V_GP);
    st64(buf_a + 520, 3); /* XRSTORS needs the compacted form */
    CHECK_EQ("xrstors standard form -> #GP", try_call(xrstors_fn, buf_a), V_GP);
    st64(buf_a + 520, 0x8000000000000003ull);
    st64(buf_a + 536, 1);
    CHECK_EQ("xrstors reserved header -> #GP", try_call(xrstors_fn, buf_a), V_GP);
    st64(buf_a + 536, 0);
    st64(buf_a + 512, 1); /* init optimisation: SSE to init, MXCSR to reset */
    set_xmm0(7, 7);
    CHECK_EQ("xrstors init opt runs", try_call(xrstors_fn, buf_a), 0);
    CHECK_EQ("xrstors init opt: xmm0 zeroed", xmm0_lo() | xmm0_hi(), 0);
    CHECK_EQ("xrstors init opt: mxcsr reset", stmxcsr(), 0x1f80);
    __asm__ volatile("fninit");
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    serial_init();
    printf("fpu_state: FXSAVE, FSAVE/FSTENV, XSAVE family layouts\n");
    __asm__ volatile("mov %0, %%cr0" ::"r"((read_cr0() & ~0xcull) | 0x22) : "memory"); /* EM, TS clear; MP, NE */
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    __asm__ volatile("fninit");
    ldmxcsr(0x1f80);
    test_fxsave();
    test_fsave();
    test_pointers();
    test_xsave();
    test_finish();
}
