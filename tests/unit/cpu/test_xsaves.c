/* XSAVES/XRSTORS and IA32_XSS: compacted save/restore of x87|SSE, the init optimisation, the
 * #UD/#NM/#GP rules, IA32_XSS accepting only 0, and CPUID.(0DH,1) (SDM Vol 1 13.11, 13.12). */
#include <criterion/criterion.h>
#include <string.h>

#include "cpu/vcpu.h"
#include "harness.h"

#define XA 0x40000 /* XSAVE area (64-byte aligned) */
#define XZ 0x41000 /* a compacted area whose XSTATE_BV is 0 */
#define COMPACT (1ull << 63)
#define MOV_EAX(v) 0xb8, (v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, ((v) >> 24) & 0xff
#define MOV_EDX(v) 0xba, (v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, ((v) >> 24) & 0xff
#define MOV_ECX(v) 0xb9, (v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, ((v) >> 24) & 0xff
/* 0F C7 /5 XSAVES, 0F C7 /3 XRSTORS with an [abs32] operand. */
#define XOP(digit, addr) \
    0x0f, 0xc7, 0x04 | (digit) << 3, 0x25, (addr) & 0xff, ((addr) >> 8) & 0xff, ((addr) >> 16) & 0xff, 0x00
#define XSAVES_(a) XOP(5, a)
#define XRSTORS_(a) XOP(3, a)

static void setup(struct th *t, uint64_t seed)
{
    th_init(t);
    th_mode64(t);
    th_idt64(t);
    cpu_set_cr(t->vp, 4, cpu_get_cr(t->vp, 4) | CR4_OSXSAVE | (1u << 9));
    t->vp->xcr0 = 3;
    for (unsigned k = 0; k < 512; k++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        t->vp->fxsave[k] = (uint8_t)(seed >> 56);
    }
    uint32_t mx = (uint32_t)(0x3f80 | (seed & 0x3f));
    memcpy(t->vp->fxsave + 24, &mx, 4);
}

/* Loads code at TH_CODE and runs it from there (again after an earlier HLT). */
static int run(struct th *t, const uint8_t *code, size_t n)
{
    th_load(t, TH_CODE, code, n);
    cpu_set_rip(t->vp, TH_CODE);
    cpu_set_halted(t->vp, false);
    cr_assert_eq(th_run(t, 100), CPU_STOP_HALT);
    return th_vector(t);
}

/* XSAVES writes the compacted form; XRSTORS from an all-initial area and back restores it. */
Test(cpu_xsaves, round_trip)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct th t;
        setup(&t, seed * 104729);
        uint8_t orig[512];
        memcpy(orig, t.vp->fxsave, sizeof(orig));
        const uint8_t code[] = {MOV_EAX(0xffffffffu), MOV_EDX(0xffffffffu), XSAVES_(XA), 0xf4};
        cr_assert_eq(run(&t, code, sizeof(code)), -1);
        cr_expect_eq(th_rd(&t, XA + 512, 8), 3u, "XSTATE_BV");
        cr_expect_eq(th_rd(&t, XA + 520, 8), COMPACT | 3, "XCOMP_BV");
        cr_expect_eq(th_rd(&t, XA + 28, 4), 0xffffu, "MXCSR_MASK");
        for (unsigned k = 0; k < 416; k++)
            if (k < 28 || k >= 32)
                cr_assert_eq(th_rd(&t, XA + k, 1), orig[k], "byte %u", k);
        th_wr(&t, XZ + 520, COMPACT | 3, 8);
        const uint8_t back[] = {MOV_EAX(3), MOV_EDX(0), XRSTORS_(XZ), 0xf4};
        cr_assert_eq(run(&t, back, sizeof(back)), -1);
        cr_expect_eq(t.vp->fxsave[0] | t.vp->fxsave[1] << 8, 0x037f, "init FCW");
        const uint8_t again[] = {MOV_EAX(3), MOV_EDX(0), XRSTORS_(XA), 0xf4};
        cr_assert_eq(run(&t, again, sizeof(again)), -1);
        cr_expect(memcmp(t.vp->fxsave, orig, 28) == 0 && memcmp(t.vp->fxsave + 32, orig + 32, 384) == 0,
                  "state differs after the round trip (seed %llu)", (unsigned long long)seed);
        th_fini(&t);
    }
}

/* XSAVES skips a component in its initial configuration: XSTATE_BV clear, bytes untouched. */
Test(cpu_xsaves, init_component_not_saved)
{
    struct th t;
    setup(&t, 5);
    memset(t.vp->fxsave, 0, 24);
    memset(t.vp->fxsave + 32, 0, 128);
    t.vp->fxsave[0] = 0x7f;
    t.vp->fxsave[1] = 0x03;
    for (unsigned k = 0; k < 160; k++)
        th_wr(&t, XA + k, 0xee, 1);
    const uint8_t code[] = {MOV_EAX(3), MOV_EDX(0), XSAVES_(XA), 0xf4};
    cr_assert_eq(run(&t, code, sizeof(code)), -1);
    cr_expect_eq(th_rd(&t, XA + 512, 8), 2u, "XSTATE_BV: SSE only");
    cr_expect_eq(th_rd(&t, XA + 520, 8), COMPACT | 3, "XCOMP_BV: RFBM");
    cr_expect_eq(th_rd(&t, XA, 2), 0xeeeeu, "FCW not written");
    cr_expect_eq(th_rd(&t, XA + 32, 8), 0xeeeeeeeeeeeeeeeeull, "ST0 not written");
    th_fini(&t);
}

/* XRSTORS with XSTATE_BV[1] = 0: XMM registers zero and MXCSR 1F80H (compacted form). */
Test(cpu_xsaves, xrstors_init_optimisation)
{
    struct th t;
    setup(&t, 9);
    uint8_t x87[24];
    memcpy(x87, t.vp->fxsave, sizeof(x87));
    th_wr(&t, XA + 24, 0x1fc0, 4);
    th_wr(&t, XA + 512, 0, 8);
    th_wr(&t, XA + 520, COMPACT | 3, 8);
    const uint8_t code[] = {MOV_EAX(2), MOV_EDX(0), XRSTORS_(XA), 0xf4};
    cr_assert_eq(run(&t, code, sizeof(code)), -1);
    uint32_t mx;
    memcpy(&mx, t.vp->fxsave + 24, 4);
    cr_expect_eq(mx, 0x1f80u, "MXCSR reset");
    uint8_t zero[256] = {0};
    cr_expect(memcmp(t.vp->fxsave + 160, zero, 256) == 0, "XMM zeroed");
    cr_expect(memcmp(t.vp->fxsave, x87, 24) == 0, "x87 outside RFBM untouched");
    th_fini(&t);
}

/* Faults: each case prepares the area/state, runs one instruction and expects a vector. */
enum prep { P_NONE, P_STD_HDR, P_RSVD_HDR, P_BV_NOT_IN_COMP, P_COMP_OUTSIDE_XCR0, P_NO_OSXSAVE, P_TS,
            P_BAD_MXCSR };
static const struct fault_case {
    const char *name;
    enum prep prep;
    uint8_t digit;  /* 5 XSAVES, 3 XRSTORS */
    uint32_t addr;
    int vector;
} faults[] = {
    {"xsaves ok", P_NONE, 5, XA, -1},
    {"xsaves misaligned", P_NONE, 5, XA + 16, 13},
    {"xrstors misaligned", P_NONE, 3, XA + 32, 13},
    {"xrstors standard form", P_STD_HDR, 3, XA, 13},
    {"xrstors reserved header", P_RSVD_HDR, 3, XA, 13},
    {"xrstors xstate_bv outside xcomp_bv", P_BV_NOT_IN_COMP, 3, XA, 13},
    {"xrstors xcomp_bv outside xcr0|xss", P_COMP_OUTSIDE_XCR0, 3, XA, 13},
    {"xrstors reserved mxcsr", P_BAD_MXCSR, 3, XA, 13},
    {"xsaves without osxsave", P_NO_OSXSAVE, 5, XA, 6},
    {"xrstors without osxsave", P_NO_OSXSAVE, 3, XA, 6},
    {"xsaves with ts", P_TS, 5, XA, 7},
    {"xrstors with ts", P_TS, 3, XA, 7},
    {"xsaves misaligned with ts: #NM first", P_TS, 5, XA + 8, 7},
};

Test(cpu_xsaves, fault_table)
{
    for (size_t k = 0; k < ARRAY_SIZE(faults); k++) {
        const struct fault_case *c = &faults[k];
        struct th t;
        setup(&t, k + 1);
        th_wr(&t, XA + 24, 0x1f80, 4);
        th_wr(&t, XA + 512, 3, 8);
        th_wr(&t, XA + 520, COMPACT | 3, 8);
        switch (c->prep) {
        case P_NONE: break;
        case P_STD_HDR: th_wr(&t, XA + 520, 3, 8); break;
        case P_RSVD_HDR: th_wr(&t, XA + 560, 1, 1); break;
        case P_BV_NOT_IN_COMP: th_wr(&t, XA + 520, COMPACT | 1, 8); break;
        case P_COMP_OUTSIDE_XCR0: th_wr(&t, XA + 520, COMPACT | 7, 8); break;
        case P_BAD_MXCSR: th_wr(&t, XA + 24, 0x10000, 4); break;
        case P_NO_OSXSAVE: cpu_set_cr(t.vp, 4, cpu_get_cr(t.vp, 4) & ~(uint64_t)CR4_OSXSAVE); break;
        case P_TS: cpu_set_cr(t.vp, 0, cpu_get_cr(t.vp, 0) | CR0_TS); break;
        }
        uint8_t before[512];
        memcpy(before, t.vp->fxsave, sizeof(before));
        const uint8_t code[] = {MOV_EAX(3), MOV_EDX(0), XOP(c->digit, c->addr), 0xf4};
        cr_expect_eq(run(&t, code, sizeof(code)), c->vector, "%s: vector %d", c->name, th_vector(&t));
        if (c->vector >= 0)
            cr_expect(memcmp(before, t.vp->fxsave, 512) == 0, "%s: state changed by a fault", c->name);
        th_fini(&t);
    }
}

/* IA32_XSS (0DA0H): no supervisor component, so only 0 is accepted; reads give 0. */
static const struct { uint64_t value; int vector; } xss_cases[] = {
    {0, -1}, {1, 13}, {2, 13}, {1ull << 8, 13}, {1ull << 63, 13},
};

Test(cpu_xsaves, ia32_xss)
{
    for (size_t k = 0; k < ARRAY_SIZE(xss_cases); k++) {
        struct th t;
        setup(&t, 1);
        uint64_t v = xss_cases[k].value;
        const uint8_t code[] = {MOV_ECX(0xda0u), MOV_EAX((uint32_t)v), MOV_EDX((uint32_t)(v >> 32)),
                                0x0f, 0x30,             /* wrmsr */
                                0x31, 0xc0, 0x31, 0xd2, /* xor eax, eax; xor edx, edx */
                                0x48, 0xff, 0xc8,       /* dec rax: visible if rdmsr is skipped */
                                0x0f, 0x32, 0xf4};      /* rdmsr; hlt */
        cr_expect_eq(run(&t, code, sizeof(code)), xss_cases[k].vector, "wrmsr xss 0x%llx",
                     (unsigned long long)v);
        if (xss_cases[k].vector < 0)
            cr_expect_eq(cpu_get_gpr(t.vp, REG_RAX) | cpu_get_gpr(t.vp, REG_RDX), 0u, "rdmsr xss");
        th_fini(&t);
    }
}

/* CPUID.(0DH,1): XSAVES advertised, EBX the compacted size for XCR0|XSS, no XSS bits. */
Test(cpu_xsaves, cpuid)
{
    struct th t;
    setup(&t, 1);
    uint32_t r[4];
    cpu_cpuid_default(t.vp, 0xd, 1, r);
    cr_expect(r[0] >> 3 & 1, "XSAVES bit");
    cr_expect_eq(r[1], 576u, "EBX");
    cr_expect(r[2] == 0 && r[3] == 0, "IA32_XSS bits");
    th_fini(&t);
}
