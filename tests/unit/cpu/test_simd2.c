/* Table tests for the SIMD extensions where the host cannot be the oracle: MMX/x87 aliasing in
 * the register image (TOP, tags, exponent) and the MMX/EMMS exception rules; FIPS-197 and
 * carry-less vectors; CPUID bits; XSAVE/XSAVEOPT/XSAVEC/XRSTOR round trips, masks and faults;
 * MASKMOV* segment overrides; the RCPPS/RSQRTPS error bound and special cases. */
#include <criterion/criterion.h>
#include <string.h>

#include "cpu/vcpu.h"
#include "harness.h"

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* Prologue pieces: mov rax,cr0; or eax,imm8; mov cr0,rax (and the same for cr4 with and). */
#define CR0_OR(b) 0x0f, 0x20, 0xc0, 0x83, 0xc8, (b), 0x0f, 0x22, 0xc0
#define CR4_AND_NOT_OSFXSR 0x0f, 0x20, 0xe0, 0x25, 0xff, 0xfd, 0xff, 0xff, 0x0f, 0x22, 0xe0
#define PADDB_MM0_MM1 0x0f, 0xfc, 0xc1
#define EMMS 0x0f, 0x77
#define CVTPI2PS_XMM0_MM1 0x0f, 0x2a, 0xc1

struct fault_case {
    const char *name;
    const uint8_t *code;
    unsigned len;
    int vector;        /* -1: runs to its HLT */
    bool pending_x87;  /* FSW.ES set before running */
};

static const struct fault_case fault_cases[] = {
    {"mmx_cr0_em_ud", CODE(CR0_OR(4), PADDB_MM0_MM1, 0xf4), 6, false},
    {"mmx_cr0_ts_nm", CODE(CR0_OR(8), PADDB_MM0_MM1, 0xf4), 7, false},
    {"mmx_pending_x87_mf", CODE(PADDB_MM0_MM1, 0xf4), 16, true},
    {"mmx_without_osfxsr_runs", CODE(CR4_AND_NOT_OSFXSR, PADDB_MM0_MM1, 0xf4), -1, false},
    {"emms_cr0_em_ud", CODE(CR0_OR(4), EMMS, 0xf4), 6, false},
    {"emms_cr0_ts_nm", CODE(CR0_OR(8), EMMS, 0xf4), 7, false},
    {"emms_pending_x87_mf", CODE(EMMS, 0xf4), 16, true},
    {"cvtpi2ps_without_osfxsr_ud", CODE(CR4_AND_NOT_OSFXSR, CVTPI2PS_XMM0_MM1, 0xf4), 6, false},
    {"cvtpi2ps_runs", CODE(CVTPI2PS_XMM0_MM1, 0xf4), -1, false},
};

static void setup(struct th *t)
{
    th_init(t);
    th_mode64(t);
    th_idt64(t);
}

Test(cpu_simd2, mmx_fault_table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(fault_cases); k++) {
        const struct fault_case *c = &fault_cases[k];
        struct th t;
        setup(&t);
        if (c->pending_x87)
            t.vp->fxsave[2] |= 0x81; /* IE with ES: an unmasked invalid operation pending */
        th_load(&t, TH_CODE, c->code, c->len);
        cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT, "%s", c->name);
        cr_expect_eq(th_vector(&t), c->vector, "%s: vector %d", c->name, th_vector(&t));
        th_fini(&t);
    }
}

/* Fill the stack-ordered image: ST(k) mantissa 0x1111..*(k+1), exponent 0x4000 + k. */
static void fill_stack(struct vcpu *vp, unsigned top, uint8_t tags)
{
    for (unsigned k = 0; k < 8; k++) {
        uint8_t *p = vp->fxsave + 32 + 16 * k;
        uint64_t m = 0x1111111111111111ull * (k + 1);
        memcpy(p, &m, 8);
        uint16_t e = (uint16_t)(0x4000 + k);
        memcpy(p + 8, &e, 2);
    }
    uint16_t fsw = (uint16_t)(top << 11);
    memcpy(vp->fxsave + 2, &fsw, 2);
    vp->fxsave[4] = tags;
}

static uint16_t fsw_of(const struct vcpu *vp)
{
    uint16_t v;
    memcpy(&v, vp->fxsave + 2, 2);
    return v;
}

struct alias_case {
    unsigned top;
    unsigned mm;  /* MMn read by MOVQ RAX, MMn */
};

static const struct alias_case alias_cases[] = {{0, 0}, {5, 2}, {5, 5}, {7, 0}, {3, 7}, {1, 6}};

/* MMn is physical register Rn = ST((n - TOP) mod 8); afterwards TOP = 0, all tags valid and
 * the image is in physical order (ST(n) = Rn). */
Test(cpu_simd2, mmx_reads_physical_register_and_resets_top)
{
    for (unsigned k = 0; k < ARRAY_SIZE(alias_cases); k++) {
        const struct alias_case *c = &alias_cases[k];
        struct th t;
        setup(&t);
        fill_stack(t.vp, c->top, 0x21);
        /* movq rax, mmN; hlt */
        uint8_t code[] = {0x48, 0x0f, 0x7e, (uint8_t)(0xc0 | c->mm << 3), 0xf4};
        th_load(&t, TH_CODE, code, sizeof(code));
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
        unsigned st = (c->mm - c->top) & 7;
        cr_expect_eq(cpu_get_gpr(t.vp, REG_RAX), 0x1111111111111111ull * (st + 1),
                     "top %u mm%u", c->top, c->mm);
        cr_expect_eq((fsw_of(t.vp) >> 11) & 7, 0u, "top %u: TOP after MMX", c->top);
        cr_expect_eq(t.vp->fxsave[4], 0xff, "top %u: tags after MMX", c->top);
        for (unsigned r = 0; r < 8; r++) {
            uint16_t e;
            memcpy(&e, t.vp->fxsave + 32 + 16 * r + 8, 2);
            cr_expect_eq(e, 0x4000 + ((r - c->top) & 7), "top %u: R%u exponent %#x", c->top, r, e);
        }
        th_fini(&t);
    }
}

/* A write sets the register's sign/exponent to all ones; EMMS empties all tags, keeps TOP. */
Test(cpu_simd2, mmx_write_sets_exponent_and_emms_empties)
{
    struct th t;
    setup(&t);
    fill_stack(t.vp, 3, 0x0f);
    cpu_set_gpr(t.vp, REG_RAX, 0x0123456789abcdefull);
    /* movq mm1, rax; hlt */
    th_load(&t, TH_CODE, (const uint8_t[]){0x48, 0x0f, 0x6e, 0xc8, 0xf4}, 5);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    uint64_t m;
    uint16_t e;
    memcpy(&m, t.vp->fxsave + 32 + 16, 8);
    memcpy(&e, t.vp->fxsave + 32 + 16 + 8, 2);
    cr_expect_eq(m, 0x0123456789abcdefull);
    cr_expect_eq(e, 0xffff);
    th_fini(&t);

    setup(&t);
    fill_stack(t.vp, 3, 0xff);
    th_load(&t, TH_CODE, (const uint8_t[]){EMMS, 0xf4}, 3);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_expect_eq(t.vp->fxsave[4], 0);
    cr_expect_eq((fsw_of(t.vp) >> 11) & 7, 3u);
    th_fini(&t);
}

/* movdqu xmm0, [TH_DATA]; movdqu xmm1, [TH_DATA+16]; <op xmm0, xmm1>; movdqu [TH_DATA+32],
 * xmm0; hlt. */
#define LD(r, off) 0xf3, 0x0f, 0x6f, 0x04 | (r) << 3, 0x25, (off), 0x00, 0x04, 0x00
#define ST0(off) 0xf3, 0x0f, 0x7f, 0x04, 0x25, (off), 0x00, 0x04, 0x00

struct vec_case {
    const char *name;
    const uint8_t *op;
    unsigned op_len;
    uint8_t a[16], b[16], want[16];
};

static const struct vec_case vec_cases[] = {
    /* FIPS-197 Appendix B: round 1 of AES-128 (round[1].start, round key 1, round[2].start). */
    {"aesenc_fips197_round1", CODE(0x66, 0x0f, 0x38, 0xdc, 0xc1),
     {0x19, 0x3d, 0xe3, 0xbe, 0xa0, 0xf4, 0xe2, 0x2b, 0x9a, 0xc6, 0x8d, 0x2a, 0xe9, 0xf8, 0x48, 0x08},
     {0xa0, 0xfa, 0xfe, 0x17, 0x88, 0x54, 0x2c, 0xb1, 0x23, 0xa3, 0x39, 0x39, 0x2a, 0x6c, 0x76, 0x05},
     {0xa4, 0x9c, 0x7f, 0xf2, 0x68, 0x9f, 0x35, 0x2b, 0x6b, 0x5b, 0xea, 0x43, 0x02, 0x6a, 0x50, 0x49}},
    /* S(0) = 0x63 everywhere (FIPS-197 Figure 7), no MixColumns in the last round. */
    {"aesenclast_zero", CODE(0x66, 0x0f, 0x38, 0xdd, 0xc1), {0}, {0},
     {0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63}},
    /* InvS(0x63) = 0 undoes it. */
    {"aesdeclast_0x63", CODE(0x66, 0x0f, 0x38, 0xdf, 0xc1),
     {0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63},
     {0}, {0}},
    /* (x^7 + x^2 + x + 1) * (2^64 - 1) carry-less: 0x7d in both halves. */
    {"pclmulqdq_low_low", CODE(0x66, 0x0f, 0x3a, 0x44, 0xc1, 0x00),
     {0x87}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
     {0x7d, 0, 0, 0, 0, 0, 0, 0, 0x7d}},
    /* imm 0x11 selects both high quadwords: 3 * 3 = 5 (x + 1 squared). */
    {"pclmulqdq_high_high", CODE(0x66, 0x0f, 0x3a, 0x44, 0xc1, 0x11),
     {0, 0, 0, 0, 0, 0, 0, 0, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 3}, {5}},
    /* PHMINPOSUW: minimum 2 first found at word 5. */
    {"phminposuw", CODE(0x66, 0x0f, 0x38, 0x41, 0xc1), {0},
     {9, 0, 8, 0, 7, 0, 6, 0, 5, 0, 2, 0, 2, 0, 3, 0}, {2, 0, 5, 0}},
};

Test(cpu_simd2, vector_table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(vec_cases); k++) {
        const struct vec_case *c = &vec_cases[k];
        uint8_t code[64];
        const uint8_t pre[] = {LD(0, 0x00), LD(1, 0x10)}, post[] = {ST0(0x20), 0xf4};
        unsigned n = 0;
        memcpy(code + n, pre, sizeof(pre));
        n += sizeof(pre);
        memcpy(code + n, c->op, c->op_len);
        n += c->op_len;
        memcpy(code + n, post, sizeof(post));
        n += sizeof(post);
        struct th t;
        setup(&t);
        for (unsigned j = 0; j < 16; j++) {
            th_wr(&t, TH_DATA + j, c->a[j], 1);
            th_wr(&t, TH_DATA + 16 + j, c->b[j], 1);
        }
        th_load(&t, TH_CODE, code, n);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", c->name);
        cr_assert_eq(th_vector(&t), -1, "%s: vector %d", c->name, th_vector(&t));
        for (unsigned j = 0; j < 16; j++)
            cr_expect_eq(th_rd(&t, TH_DATA + 32 + j, 1), c->want[j], "%s: byte %u = %#llx", c->name,
                         j, (unsigned long long)th_rd(&t, TH_DATA + 32 + j, 1));
        th_fini(&t);
    }
}

/* CPUID.1 advertises exactly the extensions implemented here (and their prerequisites). */
Test(cpu_simd2, cpuid_bits)
{
    struct th t;
    setup(&t);
    uint32_t r[4];
    cpu_cpuid_default(t.vp, 1, 0, r);
    static const unsigned ecx_bits[] = {0, 1, 9, 19, 20, 25, 26};
    for (unsigned k = 0; k < ARRAY_SIZE(ecx_bits); k++)
        cr_expect(r[2] >> ecx_bits[k] & 1, "CPUID.1:ECX bit %u", ecx_bits[k]);
    cr_expect(r[3] >> 23 & 1, "CPUID.1:EDX.MMX");
    /* Leaf 0xD: components x87|SSE, 576-byte area; XSAVEOPT, XSAVEC and XSAVES. */
    cpu_cpuid_default(t.vp, 0xd, 0, r);
    cr_expect(r[0] == 3 && r[1] == 576 && r[2] == 576 && r[3] == 0, "CPUID.0xD.0");
    cpu_cpuid_default(t.vp, 0xd, 1, r);
    cr_expect_eq(r[0], 0xbu, "CPUID.0xD.1:EAX");
    cpu_cpuid_default(t.vp, 0xd, 2, r);
    cr_expect_eq(r[0], 0u, "CPUID.0xD.2: no AVX component");
    th_fini(&t);
}

/* ---- XSAVE family ---- */
#define XA 0x40000   /* XSAVE area (64-byte aligned) */
#define XZ 0x41000   /* an area whose XSTATE_BV is 0: XRSTOR from it initialises the state */
#define MOV_EAX(v) 0xb8, (v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, ((v) >> 24) & 0xff
#define MOV_EDX(v) 0xba, (v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, ((v) >> 24) & 0xff
/* <op> [abs32] with ModRM reg = /digit: 0F AE /4 XSAVE, /5 XRSTOR, /6 XSAVEOPT; 0F C7 /4 XSAVEC */
#define XOP(op2, digit, addr)                                                               \
    0x0f, (op2), 0x04 | (digit) << 3, 0x25, (addr) & 0xff, ((addr) >> 8) & 0xff,            \
        ((addr) >> 16) & 0xff, 0x00
#define XSAVE_(a) XOP(0xae, 4, a)
#define XRSTOR_(a) XOP(0xae, 5, a)
#define XSAVEOPT_(a) XOP(0xae, 6, a)
#define XSAVEC_(a) XOP(0xc7, 4, a)

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static void xsetup(struct th *t, uint64_t seed)
{
    setup(t);
    cpu_set_cr(t->vp, 4, cpu_get_cr(t->vp, 4) | CR4_OSXSAVE);
    t->vp->xcr0 = 3;
    for (unsigned k = 0; k < 512; k++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        t->vp->fxsave[k] = (uint8_t)(seed >> 56);
    }
    put32(t->vp->fxsave + 24, (uint32_t)(0x3f80 | (seed & 0x3f))); /* a valid MXCSR */
}

/* The architectural bytes of the legacy region (FCW..FDP, MXCSR, ST0-7, XMM0-15). */
static bool same_state(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, 28) == 0 && memcmp(a + 32, b + 32, 416 - 32) == 0;
}

/* XSAVE or XSAVEC to XA, XRSTOR from XZ (all initial), XRSTOR from XA: bit-for-bit back. */
Test(cpu_simd2, xsave_xrstor_round_trip)
{
    static const struct { const char *name; uint8_t op2, digit; uint64_t comp; } forms[] = {
        {"xsave", 0xae, 4, 0}, {"xsaveopt", 0xae, 6, 0}, {"xsavec", 0xc7, 4, (1ull << 63) | 3}};
    for (unsigned f = 0; f < ARRAY_SIZE(forms); f++) {
        for (uint64_t seed = 1; seed <= 4; seed++) {
            struct th t;
            xsetup(&t, seed * 7919 + f);
            uint8_t orig[512];
            memcpy(orig, t.vp->fxsave, sizeof(orig));
            const uint8_t code[] = {MOV_EAX(0xffffffffu), MOV_EDX(0xffffffffu),
                                    XOP(forms[f].op2, forms[f].digit, XA), 0xf4};
            th_load(&t, TH_CODE, code, sizeof(code));
            cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
            cr_assert_eq(th_vector(&t), -1, "%s: vector %d", forms[f].name, th_vector(&t));
            cr_expect_eq(th_rd(&t, XA + 512, 8), 3u, "%s: XSTATE_BV", forms[f].name);
            cr_expect_eq(th_rd(&t, XA + 520, 8), forms[f].comp, "%s: XCOMP_BV", forms[f].name);
            cr_expect_eq(th_rd(&t, XA + 28, 4), 0xffffu, "%s: MXCSR_MASK", forms[f].name);
            for (unsigned k = 0; k < 416; k++)
                if (k < 28 || k >= 32)
                    cr_assert_eq(th_rd(&t, XA + k, 1), orig[k], "%s: byte %u", forms[f].name, k);
            th_fini(&t);

            xsetup(&t, seed * 7919 + f);
            for (unsigned k = 0; k < 416; k++)
                th_wr(&t, XA + k, orig[k], 1);
            th_wr(&t, XA + 512, 3, 8);
            th_wr(&t, XA + 520, forms[f].comp, 8);
            th_wr(&t, XZ + 24, 0x1f80, 4);
            const uint8_t back[] = {MOV_EAX(0xffffffffu), MOV_EDX(0xffffffffu), XRSTOR_(XZ),
                                    XRSTOR_(XA), 0xf4};
            memset(t.vp->fxsave, 0x5a, 512);
            th_load(&t, TH_CODE, back, sizeof(back));
            cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
            cr_assert_eq(th_vector(&t), -1, "%s restore: vector %d", forms[f].name, th_vector(&t));
            cr_expect(same_state(t.vp->fxsave, orig), "%s: state differs after the round trip",
                      forms[f].name);
            th_fini(&t);
        }
    }
}

/* XRSTOR from a header with XSTATE_BV = 0 puts both components in their initial state. */
Test(cpu_simd2, xrstor_init)
{
    struct th t;
    xsetup(&t, 99);
    th_wr(&t, XZ + 24, 0x1f80, 4);
    const uint8_t code[] = {MOV_EAX(3), MOV_EDX(0), XRSTOR_(XZ), 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), -1);
    uint8_t init[512];
    memset(init, 0, sizeof(init));
    init[0] = 0x7f;
    init[1] = 0x03;
    put32(init + 24, 0x1f80);
    cr_expect(same_state(t.vp->fxsave, init));
    th_fini(&t);
}

/* Requested-feature masks and the init optimisation: EDX:EAX = 1 saves x87 only and leaves
 * XSTATE_BV[1] and the XMM area alone; XSAVEOPT/XSAVEC skip SSE in its initial state. */
Test(cpu_simd2, xsave_partial_and_init_optimisation)
{
    struct th t;
    xsetup(&t, 5);
    for (unsigned k = 0; k < 576; k++)
        th_wr(&t, XA + k, 0xaa, 1);
    th_wr(&t, XA + 512, 2, 8);
    th_wr(&t, XA + 520, 0, 16);
    const uint8_t code[] = {MOV_EAX(1), MOV_EDX(0), XSAVE_(XA), 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_expect_eq(th_rd(&t, XA + 512, 8), 3u, "XSTATE_BV: x87 written, SSE bit kept");
    cr_expect_eq(th_rd(&t, XA + 160, 8), 0xaaaaaaaaaaaaaaaaull, "XMM0 untouched");
    cr_expect_eq(th_rd(&t, XA + 24, 4), 0xaaaaaaaau, "MXCSR untouched without RFBM[1]");
    cr_expect_eq(th_rd(&t, XA, 2), get16(t.vp->fxsave), "FCW saved");
    th_fini(&t);

    for (unsigned opt = 0; opt < 2; opt++) {
        xsetup(&t, 6);
        memset(t.vp->fxsave + 160, 0, 256);
        put32(t.vp->fxsave + 24, 0x1f80);
        for (unsigned k = 0; k < 576; k++)
            th_wr(&t, XA + k, 0xaa, 1);
        th_wr(&t, XA + 520, 0, 16);
        const uint8_t c2[] = {MOV_EAX(3), MOV_EDX(0), XSAVEOPT_(XA), 0xf4};
        const uint8_t c3[] = {MOV_EAX(3), MOV_EDX(0), XSAVEC_(XA), 0xf4};
        th_load(&t, TH_CODE, opt ? c3 : c2, sizeof(c2));
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
        /* XSAVEOPT keeps the XSTATE_BV bits outside RFBM; XSAVEC writes the whole field. */
        uint64_t want = opt ? 1 : 0xaaaaaaaaaaaaaaa9ull;
        cr_expect_eq(th_rd(&t, XA + 512, 8), want, "%s: XSTATE_BV %#llx",
                     opt ? "xsavec" : "xsaveopt", (unsigned long long)th_rd(&t, XA + 512, 8));
        cr_expect_eq(th_rd(&t, XA + 160, 8), 0xaaaaaaaaaaaaaaaaull, "XMM area not written");
        th_fini(&t);
    }
}

struct xfault_case {
    const char *name;
    bool no_osxsave, ts;
    uint64_t bv, comp, hdr16; /* header words at XA+512, +520, +528 */
    uint32_t mxcsr;
    const uint8_t *code;
    unsigned len;
    int vector;
};

#define XS_RSTOR CODE(MOV_EAX(3), MOV_EDX(0), XRSTOR_(XA), 0xf4)
static const struct xfault_case xfault_cases[] = {
    {"xsave_without_osxsave_ud", true, false, 0, 0, 0, 0x1f80, CODE(XSAVE_(XA), 0xf4), 6},
    {"xgetbv_without_osxsave_ud", true, false, 0, 0, 0, 0x1f80, CODE(0x0f, 0x01, 0xd0, 0xf4), 6},
    {"xsave_ts_nm", false, true, 0, 0, 0, 0x1f80, CODE(XSAVE_(XA), 0xf4), 7},
    {"xsave_misaligned_gp", false, false, 0, 0, 0, 0x1f80, CODE(XSAVE_(XA + 0x20), 0xf4), 13},
    {"xrstor_misaligned_gp", false, false, 0, 0, 0, 0x1f80, CODE(XRSTOR_(XA + 0x10), 0xf4), 13},
    {"xrstor_bv_beyond_xcr0_gp", false, false, 4, 0, 0, 0x1f80, XS_RSTOR, 13},
    {"xrstor_header_reserved_gp", false, false, 3, 0, 1, 0x1f80, XS_RSTOR, 13},
    {"xrstor_standard_ok", false, false, 3, 0, 0, 0x1f80, XS_RSTOR, -1},
    {"xrstor_mxcsr_reserved_gp", false, false, 3, 0, 0, 0x10000, XS_RSTOR, 13},
    {"xrstor_compact_ok", false, false, 3, (1ull << 63) | 3, 0, 0x1f80, XS_RSTOR, -1},
    {"xrstor_compact_bv_not_in_comp_gp", false, false, 3, (1ull << 63) | 1, 0, 0x1f80, XS_RSTOR, 13},
    {"xrstor_compact_comp_beyond_xcr0_gp", false, false, 1, (1ull << 63) | 5, 0, 0x1f80, XS_RSTOR,
     13},
    {"xrstor_compact_reserved_gp", false, false, 1, (1ull << 63) | 1, 1, 0x1f80, XS_RSTOR, 13},
    /* XSAVES is offered now (CPUID.(0DH,1):EAX[3]); its own tests are in test_xsaves.c. */
    {"xsaves_offered_ok", false, false, 0, 0, 0, 0x1f80, CODE(XOP(0xc7, 5, XA), 0xf4), -1},
};

Test(cpu_simd2, xsave_fault_table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(xfault_cases); k++) {
        const struct xfault_case *c = &xfault_cases[k];
        struct th t;
        xsetup(&t, k);
        if (c->no_osxsave)
            cpu_set_cr(t.vp, 4, cpu_get_cr(t.vp, 4) & ~(uint64_t)CR4_OSXSAVE);
        if (c->ts)
            cpu_set_cr(t.vp, 0, cpu_get_cr(t.vp, 0) | CR0_TS);
        th_wr(&t, XA + 24, c->mxcsr, 4);
        th_wr(&t, XA + 512, c->bv, 8);
        th_wr(&t, XA + 520, c->comp, 8);
        th_wr(&t, XA + 528, c->hdr16, 8);
        th_load(&t, TH_CODE, c->code, c->len);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", c->name);
        cr_expect_eq(th_vector(&t), c->vector, "%s: vector %d", c->name, th_vector(&t));
        th_fini(&t);
    }
}

/* MASKMOVQ/MASKMOVDQU store at DS:rDI; a segment override (FS here, base 0x1000) applies. */
Test(cpu_simd2, maskmov_segment_override)
{
    const struct { const char *name; const uint8_t *code; unsigned len; } cases[] = {
        {"maskmovq fs:", CODE(0xbf, 0x00, 0x00, 0x04, 0x00, 0x48, 0x0f, 0x6e, 0xc0, 0x0f, 0x74,
                              0xc9, 0x64, 0x0f, 0xf7, 0xc1, 0x0f, 0x77, 0xf4)},
        {"maskmovdqu fs:", CODE(0xbf, 0x00, 0x00, 0x04, 0x00, 0x66, 0x48, 0x0f, 0x6e, 0xc0, 0x66,
                                0x0f, 0x74, 0xc9, 0x64, 0x66, 0x0f, 0xf7, 0xc1, 0xf4)},
    };
    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        struct th t;
        setup(&t);
        struct seg fs;
        cpu_get_seg(t.vp, SEG_FS, &fs);
        fs.base = 0x1000;
        cpu_set_seg(t.vp, SEG_FS, &fs);
        cpu_set_gpr(t.vp, REG_RAX, 0x8877665544332211ull);
        th_load(&t, TH_CODE, cases[k].code, cases[k].len);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", cases[k].name);
        cr_assert_eq(th_vector(&t), -1, "%s: vector %d", cases[k].name, th_vector(&t));
        cr_expect_eq(th_rd(&t, TH_DATA + 0x1000, 8), 0x8877665544332211ull, "%s", cases[k].name);
        cr_expect_eq(th_rd(&t, TH_DATA, 8), 0u, "%s: nothing at DS:rDI", cases[k].name);
        th_fini(&t);
    }
}

/* ---- RCPPS/RSQRTPS: within the SDM's 1.5 * 2^-12 relative error; special cases exact ---- */
static float f_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Run rcpps xmm1, xmm0 and rsqrtps xmm2, xmm0 on four inputs; results in rcp[] and rsq[]. */
static void run_rcp(const uint32_t in[4], uint32_t rcp[4], uint32_t rsq[4])
{
    struct th t;
    setup(&t);
    for (unsigned k = 0; k < 4; k++)
        th_wr(&t, TH_DATA + 4 * k, in[k], 4);
    const uint8_t code[] = {LD(0, 0x00), 0x0f, 0x53, 0xc8, 0x0f, 0x52, 0xd0,
                            0xf3, 0x0f, 0x7f, 0x0c, 0x25, 0x20, 0x00, 0x04, 0x00,
                            0xf3, 0x0f, 0x7f, 0x14, 0x25, 0x30, 0x00, 0x04, 0x00, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), -1);
    for (unsigned k = 0; k < 4; k++) {
        rcp[k] = (uint32_t)th_rd(&t, TH_DATA + 0x20 + 4 * k, 4);
        rsq[k] = (uint32_t)th_rd(&t, TH_DATA + 0x30 + 4 * k, 4);
    }
    th_fini(&t);
}

Test(cpu_simd2, rcp_rsqrt_error_bound)
{
    uint64_t s = 12345;
    for (unsigned n = 0; n < 64; n++) {
        uint32_t in[4], rcp[4], rsq[4];
        for (unsigned k = 0; k < 4; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            /* positive normal numbers with exponents well inside the range */
            in[k] = (uint32_t)((s >> 33) & 0x007fffff) | (uint32_t)(64 + (s >> 56) % 128) << 23;
        }
        run_rcp(in, rcp, rsq);
        for (unsigned k = 0; k < 4; k++) {
            double x = f_of(in[k]), r1 = 1.0 / x, r2 = 1.0 / __builtin_sqrt(x);
            double e1 = (f_of(rcp[k]) - r1) / r1, e2 = (f_of(rsq[k]) - r2) / r2;
            cr_expect(e1 <= 1.5 / 4096 && e1 >= -1.5 / 4096, "rcpps(%a) = %a", x, (double)f_of(rcp[k]));
            cr_expect(e2 <= 1.5 / 4096 && e2 >= -1.5 / 4096, "rsqrtps(%a) = %a", x,
                      (double)f_of(rsq[k]));
        }
    }
    /* +0, -0 (denormal too), +inf, -4.0: SDM tables for RCPPS and RSQRTPS. */
    const uint32_t sp[4] = {0x00000000, 0x80000001, 0x7f800000, 0xc0800000};
    const uint32_t want_rcp[4] = {0x7f800000, 0xff800000, 0x00000000, 0xbe800000};
    const uint32_t want_rsq[4] = {0x7f800000, 0xff800000, 0x00000000, 0xffc00000};
    uint32_t rcp[4], rsq[4];
    run_rcp(sp, rcp, rsq);
    for (unsigned k = 0; k < 4; k++) {
        cr_expect_eq(rcp[k], want_rcp[k], "rcpps special %u: %#x", k, rcp[k]);
        cr_expect_eq(rsq[k], want_rsq[k], "rsqrtps special %u: %#x", k, rsq[k]);
    }
    /* An SNaN comes back quiet; 2^127's reciprocal would be denormal: flushed to +0. */
    const uint32_t sp2[4] = {0x7f800001, 0x7f000000, 0x3f800000, 0x40800000};
    run_rcp(sp2, rcp, rsq);
    cr_expect_eq(rcp[0], 0x7fc00001u);
    cr_expect_eq(rcp[1], 0u);
    cr_expect_eq(rcp[2], 0x3f800000u);
    cr_expect_eq(rsq[3], 0x3f000000u);
}
