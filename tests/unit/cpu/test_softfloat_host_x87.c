/* Differential tests of the x87-side softfloat against the host x87 unit (x86-64 only): same
 * operands and control word, identical 80-bit results, exception flags and condition codes. */
#include <criterion/criterion.h>
#include <string.h>

#include "test_softfloat_gen.h"

#if defined(__x86_64__)

#define CASES_PER_MODE 30000

typedef void (*x87_host_fn)(const f80 *a, const f80 *b, uint16_t cw, x87_res *out);
typedef void (*x87_soft_fn)(f80 a, f80 b, sf_status *st, x87_res *out);

/* ---- host side. Stack on entry to each op: ST0 = a, ST1 = b. FNCLEX before the (waiting)
 * store lets unmasked OE/UE deliver their bias-adjusted result without a #MF. ---- */
#define X87_PRE "fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\tfldt %[b]\n\tfldt %[a]\n\t"
#define X87_CLOBBER "st", "st(1)", "st(2)", "memory"

#define HOST_X87(name, insn)                                                                       \
    static void host_##name(const f80 *a, const f80 *b, uint16_t cw, x87_res *o)                   \
    {                                                                                              \
        uint16_t sv;                                                                               \
        __asm__ volatile(X87_PRE insn                                                              \
                         "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r0]\n\tfstp %%st(0)\n\t"           \
                         "fldcw %[sv]"                                                             \
                         : [r0] "=m"(o->r[0]), [sw] "=m"(o->sw), [sv] "+m"(sv)                     \
                         : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw)                                  \
                         : X87_CLOBBER);                                                           \
    }
HOST_X87(fadd, "fadd %%st(1), %%st")
HOST_X87(fsub, "fsub %%st(1), %%st")
HOST_X87(fmul, "fmul %%st(1), %%st")
HOST_X87(fdiv, "fdiv %%st(1), %%st")
HOST_X87(fsqrt, "fsqrt")
HOST_X87(frndint, "frndint")
HOST_X87(fscale, "fscale")
HOST_X87(fprem, "fprem")
HOST_X87(fprem1, "fprem1")
HOST_X87(fcom, "fcom %%st(1)")
HOST_X87(fucom, "fucom %%st(1)")

static void host_fxtract(const f80 *a, const f80 *b, uint16_t cw, x87_res *o)
{
    uint16_t sv;
    __asm__ volatile(X87_PRE "fxtract\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r0]\n\tfstpt %[r1]\n\t"
                             "fstp %%st(0)\n\tfldcw %[sv]"
                     : [r0] "=m"(o->r[0]), [r1] "=m"(o->r[1]), [sw] "=m"(o->sw), [sv] "+m"(sv)
                     : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw)
                     : X87_CLOBBER);
}

/* Integer stores: the popped integer lands in o->i, ST1 (b) is popped afterwards. */
#define HOST_FIST(name, T, insn)                                                                   \
    static void host_##name(const f80 *a, const f80 *b, uint16_t cw, x87_res *o)                   \
    {                                                                                              \
        uint16_t sv;                                                                               \
        T v;                                                                                       \
        __asm__ volatile(X87_PRE insn                                                              \
                         " %[v]\n\tfnstsw %[sw]\n\tfnclex\n\tfstp %%st(0)\n\tfldcw %[sv]"          \
                         : [v] "=m"(v), [sw] "=m"(o->sw), [sv] "+m"(sv)                            \
                         : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw)                                  \
                         : X87_CLOBBER);                                                           \
        o->i = (uint64_t)(int64_t)v;                                                               \
    }
HOST_FIST(fist16, int16_t, "fistps")
HOST_FIST(fist32, int32_t, "fistpl")
HOST_FIST(fist64, int64_t, "fistpll")
HOST_FIST(fisttp16, int16_t, "fisttps")
HOST_FIST(fisttp32, int32_t, "fisttpl")
HOST_FIST(fisttp64, int64_t, "fisttpll")

/* Stores to f32/f64 memory: rounding to the memory format. */
#define HOST_FST(name, T, insn)                                                                    \
    static void host_##name(const f80 *a, const f80 *b, uint16_t cw, x87_res *o)                   \
    {                                                                                              \
        uint16_t sv;                                                                               \
        T v;                                                                                       \
        __asm__ volatile(X87_PRE insn                                                              \
                         " %[v]\n\tfnstsw %[sw]\n\tfnclex\n\tfstp %%st(0)\n\tfldcw %[sv]"          \
                         : [v] "=m"(v), [sw] "=m"(o->sw), [sv] "+m"(sv)                            \
                         : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw)                                  \
                         : X87_CLOBBER);                                                           \
        o->i = 0;                                                                                  \
        memcpy(&o->i, &v, sizeof v);                                                               \
    }
HOST_FST(fst32, uint32_t, "fstps")
HOST_FST(fst64, uint64_t, "fstpl")

/* Loads from f32/f64 memory: a.mant holds the memory operand. */
#define HOST_FLD(name, T, insn)                                                                    \
    static void host_##name(const f80 *a, const f80 *b, uint16_t cw, x87_res *o)                   \
    {                                                                                              \
        uint16_t sv;                                                                               \
        T v = (T)a->mant;                                                                          \
        (void)b;                                                                                   \
        __asm__ volatile("fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\t" insn " %[v]\n\t"              \
                         "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r0]\n\tfldcw %[sv]"                    \
                         : [r0] "=m"(o->r[0]), [sw] "=m"(o->sw), [sv] "+m"(sv)                     \
                         : [v] "m"(v), [cw] "m"(cw)                                                \
                         : X87_CLOBBER);                                                           \
    }
/* Arithmetic with a memory operand: ST0 = a, the f32/f64 operand in b.mant. */
#define HOST_MEM(name, T, insn)                                                                   \
    static void host_##name(const f80 *a, const f80 *b, uint16_t cw, x87_res *o)               \
    {                                                                                           \
        uint16_t sv;                                                                            \
        T v = (T)b->mant;                                                                       \
        __asm__ volatile("fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\tfldt %[a]\n\t" insn " %[v]\n\t" \
                         "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r0]\n\tfldcw %[sv]"                 \
                         : [r0] "=m"(o->r[0]), [sw] "=m"(o->sw), [sv] "+m"(sv)                  \
                         : [a] "m"(*a), [v] "m"(v), [cw] "m"(cw)                                \
                         : X87_CLOBBER);                                                        \
    }
HOST_MEM(fadd_m32, uint32_t, "fadds")
HOST_MEM(fsub_m32, uint32_t, "fsubs")
HOST_MEM(fsubr_m32, uint32_t, "fsubrs")
HOST_MEM(fmul_m32, uint32_t, "fmuls")
HOST_MEM(fdiv_m32, uint32_t, "fdivs")
HOST_MEM(fdivr_m32, uint32_t, "fdivrs")
HOST_MEM(fcom_m32, uint32_t, "fcoms")
HOST_MEM(fadd_m64, uint64_t, "faddl")
HOST_MEM(fsub_m64, uint64_t, "fsubl")
HOST_MEM(fsubr_m64, uint64_t, "fsubrl")
HOST_MEM(fmul_m64, uint64_t, "fmull")
HOST_MEM(fdiv_m64, uint64_t, "fdivl")
HOST_MEM(fdivr_m64, uint64_t, "fdivrl")
HOST_MEM(fcom_m64, uint64_t, "fcoml")

/* Packed BCD: the 10 bytes travel in an f80-shaped slot (bytes 0-7 mant, 8-9 sign_exp). */
static void host_fbstp(const f80 *a, const f80 *b, uint16_t cw, x87_res *o)
{
    uint16_t sv;
    uint8_t v[10];
    (void)b;
    __asm__ volatile("fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\tfldt %[a]\n\tfbstp %[v]\n\t"
                     "fnstsw %[sw]\n\tfnclex\n\tfldcw %[sv]"
                     : [v] "=m"(v), [sw] "=m"(o->sw), [sv] "+m"(sv)
                     : [a] "m"(*a), [cw] "m"(cw)
                     : X87_CLOBBER);
    memcpy(&o->r[0].mant, v, 8);
    memcpy(&o->r[0].sign_exp, v + 8, 2);
}

static void host_fbld(const f80 *a, const f80 *b, uint16_t cw, x87_res *o)
{
    uint16_t sv;
    uint8_t v[10];
    (void)b;
    memcpy(v, &a->mant, 8);
    memcpy(v + 8, &a->sign_exp, 2);
    __asm__ volatile("fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\tfbld %[v]\n\t"
                     "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r0]\n\tfldcw %[sv]"
                     : [r0] "=m"(o->r[0]), [sw] "=m"(o->sw), [sv] "+m"(sv)
                     : [v] "m"(v), [cw] "m"(cw)
                     : X87_CLOBBER);
}

/* Constant loads: rounding control applies, operands unused. */
#define HOST_FLDC(name, insn)                                                                      \
    static void host_##name(const f80 *a, const f80 *b, uint16_t cw, x87_res *o)                   \
    {                                                                                              \
        uint16_t sv;                                                                               \
        (void)a;                                                                                   \
        (void)b;                                                                                   \
        __asm__ volatile("fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\t" insn "\n\t"                   \
                         "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r0]\n\tfldcw %[sv]"                    \
                         : [r0] "=m"(o->r[0]), [sw] "=m"(o->sw), [sv] "+m"(sv)                     \
                         : [cw] "m"(cw)                                                            \
                         : X87_CLOBBER);                                                           \
    }
HOST_FLDC(fld1, "fld1")
HOST_FLDC(fldl2t, "fldl2t")
HOST_FLDC(fldl2e, "fldl2e")
HOST_FLDC(fldpi, "fldpi")
HOST_FLDC(fldlg2, "fldlg2")
HOST_FLDC(fldln2, "fldln2")
HOST_FLDC(fldz, "fldz")

HOST_FLD(fld32, uint32_t, "flds")
HOST_FLD(fld64, uint64_t, "fldl")

/* Operand shapes: G generic f80, N b near a, S small scale factor, I near-integer range,
 * R f32/f64 exponent range, P remainder pairs, F f32 bits, D f64 bits, K no operand,
 * m/q an f32/f64 memory operand in b, B values for FBSTP, b packed BCD in a. */
typedef struct x87_op {
    const char *name;
    x87_host_fn host;
    x87_soft_fn soft;
    char shape;
    uint16_t cc_mask; /* condition-code bits compared besides the flags */
    bool all_pc;      /* precision control matters: iterate 24/53/64 */
    bool unmask;      /* no push/pop: safe to run with unmasked exceptions (a trapping
                         instruction leaves the stack alone) */
} x87_op;

#define OP(n, shape, cc, pc) { #n, host_##n, s_##n, shape, cc, pc, UNMASK_##n }
#define UNMASK_fadd true
#define UNMASK_fsub true
#define UNMASK_fmul true
#define UNMASK_fdiv true
#define UNMASK_fsqrt true
#define UNMASK_frndint true
#define UNMASK_fscale true
#define UNMASK_fprem true
#define UNMASK_fprem1 true
#define UNMASK_fxtract false
#define UNMASK_fcom true
#define UNMASK_fucom true
#define UNMASK_fist16 false
#define UNMASK_fist32 false
#define UNMASK_fist64 false
#define UNMASK_fisttp16 false
#define UNMASK_fisttp32 false
#define UNMASK_fisttp64 false
#define UNMASK_fst32 false
#define UNMASK_fst64 false
#define UNMASK_fld32 false
#define UNMASK_fld64 false
#define UNMASK_fld1 false
#define UNMASK_fldl2t false
#define UNMASK_fldl2e false
#define UNMASK_fldpi false
#define UNMASK_fldlg2 false
#define UNMASK_fldln2 false
#define UNMASK_fldz false
#define UNMASK_fbstp false
#define UNMASK_fbld false
#define UNMASK_fadd_m32 true
#define UNMASK_fsub_m32 true
#define UNMASK_fsubr_m32 true
#define UNMASK_fmul_m32 true
#define UNMASK_fdiv_m32 true
#define UNMASK_fdivr_m32 true
#define UNMASK_fcom_m32 true
#define UNMASK_fadd_m64 true
#define UNMASK_fsub_m64 true
#define UNMASK_fsubr_m64 true
#define UNMASK_fmul_m64 true
#define UNMASK_fdiv_m64 true
#define UNMASK_fdivr_m64 true
#define UNMASK_fcom_m64 true
static const x87_op x87_ops[] = {
    OP(fadd, 'N', FSW_C1, true),
    OP(fsub, 'N', FSW_C1, true),
    OP(fmul, 'G', FSW_C1, true),
    OP(fdiv, 'G', FSW_C1, true),
    OP(fsqrt, 'G', FSW_C1, true),
    OP(frndint, 'I', FSW_C1, false),
    OP(fscale, 'S', FSW_C1, false),
    OP(fprem, 'P', FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3, false),
    OP(fprem1, 'P', FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3, false),
    OP(fcom, 'N', FSW_C0 | FSW_C2 | FSW_C3, false),
    OP(fucom, 'N', FSW_C0 | FSW_C2 | FSW_C3, false),
    OP(fxtract, 'G', 0, false),
    OP(fist16, 'I', FSW_C1, false),
    OP(fist32, 'I', FSW_C1, false),
    OP(fist64, 'I', FSW_C1, false),
    OP(fisttp16, 'I', 0, false),
    OP(fisttp32, 'I', 0, false),
    OP(fisttp64, 'I', 0, false),
    OP(fst32, 'R', FSW_C1, false),
    OP(fst64, 'R', FSW_C1, false),
    OP(fld32, 'F', 0, false),
    OP(fld64, 'D', 0, false),
    OP(fld1, 'K', FSW_C1, false),
    OP(fldl2t, 'K', FSW_C1, false),
    OP(fldl2e, 'K', FSW_C1, false),
    OP(fldpi, 'K', FSW_C1, false),
    OP(fldlg2, 'K', FSW_C1, false),
    OP(fldln2, 'K', FSW_C1, false),
    OP(fldz, 'K', FSW_C1, false),
    OP(fadd_m32, 'm', FSW_C1, true),
    OP(fsub_m32, 'm', FSW_C1, true),
    OP(fsubr_m32, 'm', FSW_C1, true),
    OP(fmul_m32, 'm', FSW_C1, true),
    OP(fdiv_m32, 'm', FSW_C1, true),
    OP(fdivr_m32, 'm', FSW_C1, true),
    OP(fcom_m32, 'm', FSW_C0 | FSW_C2 | FSW_C3, false),
    OP(fadd_m64, 'q', FSW_C1, true),
    OP(fsub_m64, 'q', FSW_C1, true),
    OP(fsubr_m64, 'q', FSW_C1, true),
    OP(fmul_m64, 'q', FSW_C1, true),
    OP(fdiv_m64, 'q', FSW_C1, true),
    OP(fdivr_m64, 'q', FSW_C1, true),
    OP(fcom_m64, 'q', FSW_C0 | FSW_C2 | FSW_C3, false),
    OP(fbstp, 'B', FSW_C1, false),
    OP(fbld, 'b', 0, false),
};

static f80 with_exp(sfgen *g, f80 v, int32_t e)
{
    if (e < 1)
        e = 1;
    if (e > 0x7FFE)
        e = 0x7FFE;
    v.sign_exp = (uint16_t)((v.sign_exp & 0x8000) | (uint32_t)e);
    v.mant |= 1ull << 63;
    (void)g;
    return v;
}

static void gen_pair(sfgen *g, char shape, f80 *a, f80 *b)
{
    *a = sfgen_f80(g);
    *b = sfgen_f80(g);
    bool plain = sfgen_below(g, 8) == 0; /* keep some fully random pairs in every shape */
    if (plain)
        return;
    switch (shape) {
    case 'N':
        if (sfgen_below(g, 2)) {
            b->mant = sfgen_near(g, a->mant, 63) | (a->mant & (1ull << 63));
            b->sign_exp = (uint16_t)(a->sign_exp ^ (sfgen_below(g, 2) << 15));
            if (sfgen_below(g, 2))
                b->sign_exp = (uint16_t)(b->sign_exp + sfgen_below(g, 3) - 1);
        }
        break;
    case 'S': {
        int32_t e = 0x3FFF + (int32_t)sfgen_below(g, 18) - 1;
        *b = with_exp(g, *b, e);
        break;
    }
    case 'I': *a = with_exp(g, *a, 0x3FFF + (int32_t)sfgen_below(g, 70) - 3); break;
    case 'R': {
        static const int32_t centers[] = { -126, 127, -149, -1022, 1023, -1074, 0 };
        int32_t c = centers[sfgen_below(g, 7)];
        *a = with_exp(g, *a, 0x3FFF + c + (int32_t)sfgen_below(g, 8) - 4);
        break;
    }
    case 'P': {
        int32_t ea = a->sign_exp & 0x7FFF;
        int32_t d = (int32_t)sfgen_below(g, 4) == 0 ? (int32_t)sfgen_below(g, 200)
                                                     : (int32_t)sfgen_below(g, 70) - 3;
        if (ea > 0 && ea < 0x7FFF)
            *b = with_exp(g, *b, ea - d);
        break;
    }
    case 'B': *a = with_exp(g, *a, 0x3FFF + (int32_t)sfgen_below(g, 66) - 3); break;
    case 'b': {
        uint8_t v[10] = { 0 };
        int digits = (int)sfgen_below(g, 19);
        for (int d = 0; d < digits; d++)
            v[d / 2] = (uint8_t)(v[d / 2] | (sfgen_below(g, 10) << (4 * (d & 1))));
        v[9] = (uint8_t)(sfgen_below(g, 2) << 7);
        memcpy(&a->mant, v, 8);
        memcpy(&a->sign_exp, v + 8, 2);
        break;
    }
    case 'm': b->mant = sfgen_f32(g); break;
    case 'q': b->mant = sfgen_f64(g); break;
    case 'F': a->mant = sfgen_f32(g); break;
    case 'D': a->mant = sfgen_f64(g); break;
    default: break;
    }
}

static bool same80(f80 x, f80 y) { return x.mant == y.mant && x.sign_exp == y.sign_exp; }

static int run_x87_op(const x87_op *op, uint64_t seed, unsigned *cases)
{
    sfgen g = { seed };
    static const uint8_t pcs[] = { SF_PREC_24, SF_PREC_53, SF_PREC_64 };
    int fails = 0;
    *cases = 0;
    int per_mode = op->shape == 'K' ? 16 : CASES_PER_MODE; /* constants: nothing to vary */
    for (int rc = 0; rc < 4; rc++) {
        for (int i = 0; i < per_mode; i++) {
            f80 a, b;
            gen_pair(&g, op->shape, &a, &b);
            uint8_t pc = op->all_pc ? pcs[sfgen_below(&g, 3)] : SF_PREC_64;
            uint16_t masks = SF_ALL_EXC;
            if (op->unmask && sfgen_below(&g, 4) == 0)
                masks = (uint16_t)(masks & ~((sfgen_below(&g, 3) + 1) << 3)); /* OE, UE or both */
            else if (op->unmask && sfgen_below(&g, 6) == 0)
                masks = (uint16_t)(masks & ~sfgen_below(&g, 64)); /* any: compare flags only */
            uint16_t cw = (uint16_t)(0x40 | masks | (pc << 8) | (rc << 10));
            x87_res want, got;
            memset(&want, 0, sizeof want);
            memset(&got, 0, sizeof got);
            op->host(&a, &b, cw, &want);
            sf_status st = sf_status_default();
            st.rounding = (uint8_t)rc;
            st.precision = pc;
            st.masks = (uint8_t)masks;
            op->soft(a, b, &st, &got);
            if (op->cc_mask & FSW_C1 && st.c1 && !(op->cc_mask & FSW_C0))
                got.sw |= FSW_C1;
            uint16_t cc_mask = op->cc_mask;
            bool nan_result = (want.r[0].sign_exp & 0x7FFF) == 0x7FFF && (want.r[0].mant << 1);
            if ((cc_mask & FSW_C2) && ((want.sw & SF_IE) || nan_result))
                cc_mask = 0; /* FPREM*: condition codes undefined (left as they were) */
            got.sw = (uint16_t)((got.sw & cc_mask) | st.flags);
            want.sw = (uint16_t)(want.sw & (cc_mask | SF_ALL_EXC));
            (*cases)++;
            /* A trapping instruction leaves its destination alone: only flags are comparable. */
            uint8_t unmasked = (uint8_t)(st.flags & ~st.masks);
            if (unmasked & (SF_IE | SF_DE | SF_ZE)) {
                got.r[0] = want.r[0];
                got.r[1] = want.r[1];
                got.i = want.i;
                got.sw = (uint16_t)((got.sw & ~op->cc_mask) | (want.sw & op->cc_mask));
            }
            if (!same80(got.r[0], want.r[0]) || !same80(got.r[1], want.r[1]) ||
                got.i != want.i || got.sw != want.sw) {
                if (fails < 8)
                    fprintf(stderr,
                            "FAIL %s a=%04x:%016llx b=%04x:%016llx fcw=%#x: host "
                            "%04x:%016llx %04x:%016llx i=%#llx sw=%#x; soft %04x:%016llx "
                            "%04x:%016llx i=%#llx sw=%#x\n",
                            op->name, a.sign_exp, (unsigned long long)a.mant, b.sign_exp,
                            (unsigned long long)b.mant, cw, want.r[0].sign_exp,
                            (unsigned long long)want.r[0].mant, want.r[1].sign_exp,
                            (unsigned long long)want.r[1].mant, (unsigned long long)want.i,
                            want.sw, got.r[0].sign_exp, (unsigned long long)got.r[0].mant,
                            got.r[1].sign_exp, (unsigned long long)got.r[1].mant,
                            (unsigned long long)got.i, got.sw);
                fails++;
            }
        }
    }
    return fails;
}

Test(softfloat_host_x87, differential)
{
    uint64_t seed = sfgen_seed();
    unsigned total = 0;
    int fails = 0;
    for (size_t i = 0; i < sizeof x87_ops / sizeof x87_ops[0]; i++) {
        unsigned n;
        int f = run_x87_op(&x87_ops[i], seed + 100 + i, &n);
        fprintf(stderr, "softfloat x87 %-12s cases %u pass %u\n", x87_ops[i].name, n,
                n - (unsigned)f);
        total += n;
        fails += f;
    }
    fprintf(stderr, "softfloat x87 seed %#llx: %u cases, %d failures\n", (unsigned long long)seed,
            total, fails);
    cr_assert_eq(fails, 0, "%d x87 differential failures (seed %#llx)", fails,
                 (unsigned long long)seed);
}

#endif
