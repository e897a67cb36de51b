/* Table tests for the SIMD extensions where the host cannot be the oracle: MMX/x87 aliasing in
 * the register image (TOP, tags, exponent), MMX/EMMS exception rules (CR0.EM, CR0.TS, pending
 * x87 exception). */
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
    static const unsigned ecx_bits[] = {0, 1, 9, 19, 20, 25};
    for (unsigned k = 0; k < ARRAY_SIZE(ecx_bits); k++)
        cr_expect(r[2] >> ecx_bits[k] & 1, "CPUID.1:ECX bit %u", ecx_bits[k]);
    cr_expect(r[3] >> 23 & 1, "CPUID.1:EDX.MMX");
    th_fini(&t);
}
