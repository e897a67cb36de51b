/* Differential tests of the SSE-side softfloat against the host CPU's SSE unit (x86-64 Linux):
 * same operands, same MXCSR (masked and unmasked exceptions), bit-identical result and
 * identical exception flags required; an unmasked exception must fault on both sides. */
#define _GNU_SOURCE /* ucontext MXCSR field names, sigsetjmp */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "test_softfloat_gen.h"

#if defined(__x86_64__) && defined(__linux__)

#define MXCSR_DEFAULT 0x1F80u
#define CASES_PER_MODE 30000

typedef uint64_t (*host_fn)(uint64_t a, uint64_t b, uint32_t *mxcsr);
typedef uint64_t (*soft_fn)(uint64_t a, uint64_t b, sf_status *st);

/* ---- host side: one asm statement per instruction, MXCSR loaded and restored inside ---- */
/* GCC's identical-code folding treats host wrappers that differ only in operand width as one
 * function (the 64-bit conversions then ran the 32-bit form at -O2): keep each one distinct. */
#define HOST_FN __attribute__((noipa))
#define ASM_PRE "stmxcsr %[sv]\n\tldmxcsr %[in]\n\t"
#define ASM_POST "\n\tstmxcsr %[out]\n\tldmxcsr %[sv]"

#define HOST_BIN(name, T, insn)                                                                   \
    static HOST_FN uint64_t host_##name(uint64_t a, uint64_t b, uint32_t *mx)                          \
    {                                                                                           \
        T x, y;                                                                                 \
        uint64_t r = 0;                                                                         \
        uint32_t in = *mx, out, sv;                                                             \
        memcpy(&x, &a, sizeof x);                                                               \
        memcpy(&y, &b, sizeof y);                                                               \
        __asm__ volatile(ASM_PRE insn " %[y], %[x]" ASM_POST                                    \
                         : [x] "+x"(x), [out] "=m"(out), [sv] "+m"(sv)                          \
                         : [in] "m"(in), [y] "x"(y));                                           \
        memcpy(&r, &x, sizeof x);                                                               \
        *mx = out;                                                                              \
        return r;                                                                               \
    }

HOST_BIN(addss, float, "addss")
HOST_BIN(subss, float, "subss")
HOST_BIN(mulss, float, "mulss")
HOST_BIN(divss, float, "divss")
HOST_BIN(sqrtss, float, "sqrtss")
HOST_BIN(minss, float, "minss")
HOST_BIN(maxss, float, "maxss")
HOST_BIN(addsd, double, "addsd")
HOST_BIN(subsd, double, "subsd")
HOST_BIN(mulsd, double, "mulsd")
HOST_BIN(divsd, double, "divsd")
HOST_BIN(sqrtsd, double, "sqrtsd")
HOST_BIN(minsd, double, "minsd")
HOST_BIN(maxsd, double, "maxsd")

/* Conversions: result register type differs from the source type. */
#define HOST_CVT(name, TS, TD, insn)                                                              \
    static HOST_FN uint64_t host_##name(uint64_t a, uint64_t b, uint32_t *mx)                          \
    {                                                                                           \
        TS y;                                                                                   \
        TD x = 0;                                                                               \
        uint64_t r = 0;                                                                         \
        uint32_t in = *mx, out, sv;                                                             \
        (void)b;                                                                                \
        memcpy(&y, &a, sizeof y);                                                               \
        __asm__ volatile(ASM_PRE insn " %[y], %[x]" ASM_POST                                    \
                         : [x] "+x"(x), [out] "=m"(out), [sv] "+m"(sv)                          \
                         : [in] "m"(in), [y] "x"(y));                                           \
        memcpy(&r, &x, sizeof x);                                                               \
        *mx = out;                                                                              \
        return r;                                                                               \
    }
HOST_CVT(cvtss2sd, float, double, "cvtss2sd")
HOST_CVT(cvtsd2ss, double, float, "cvtsd2ss")

#define HOST_I2F(name, TI, TD, insn)                                                              \
    static HOST_FN uint64_t host_##name(uint64_t a, uint64_t b, uint32_t *mx)                          \
    {                                                                                           \
        TI y = (TI)a;                                                                           \
        TD x = 0;                                                                               \
        uint64_t r = 0;                                                                         \
        uint32_t in = *mx, out, sv;                                                             \
        (void)b;                                                                                \
        __asm__ volatile(ASM_PRE insn " %[y], %[x]" ASM_POST                                    \
                         : [x] "+x"(x), [out] "=m"(out), [sv] "+m"(sv)                          \
                         : [in] "m"(in), [y] "r"(y));                                           \
        memcpy(&r, &x, sizeof x);                                                               \
        *mx = out;                                                                              \
        return r;                                                                               \
    }
HOST_I2F(cvtsi2ss32, int32_t, float, "cvtsi2ssl")
HOST_I2F(cvtsi2ss64, int64_t, float, "cvtsi2ssq")
HOST_I2F(cvtsi2sd32, int32_t, double, "cvtsi2sdl")
HOST_I2F(cvtsi2sd64, int64_t, double, "cvtsi2sdq")

#define HOST_F2I(name, TS, TI, insn)                                                              \
    static HOST_FN uint64_t host_##name(uint64_t a, uint64_t b, uint32_t *mx)                          \
    {                                                                                           \
        TS y;                                                                                   \
        TI x;                                                                                   \
        uint32_t in = *mx, out, sv;                                                             \
        (void)b;                                                                                \
        memcpy(&y, &a, sizeof y);                                                               \
        __asm__ volatile(ASM_PRE insn " %[y], %[x]" ASM_POST                                    \
                         : [x] "=r"(x), [out] "=m"(out), [sv] "+m"(sv)                          \
                         : [in] "m"(in), [y] "x"(y));                                           \
        *mx = out;                                                                              \
        return (uint64_t)(int64_t)x;                                                            \
    }
HOST_F2I(cvtss2si32, float, int32_t, "cvtss2si")
HOST_F2I(cvtss2si64, float, int64_t, "cvtss2si")
HOST_F2I(cvttss2si32, float, int32_t, "cvttss2si")
HOST_F2I(cvttss2si64, float, int64_t, "cvttss2si")
HOST_F2I(cvtsd2si32, double, int32_t, "cvtsd2si")
HOST_F2I(cvtsd2si64, double, int64_t, "cvtsd2si")
HOST_F2I(cvttsd2si32, double, int32_t, "cvttsd2si")
HOST_F2I(cvttsd2si64, double, int64_t, "cvttsd2si")

/* COMIS/UCOMIS: result encoded as the sf_cmp value derived from ZF/PF/CF. */
#define HOST_CMP(name, T, insn)                                                                   \
    static HOST_FN uint64_t host_##name(uint64_t a, uint64_t b, uint32_t *mx)                          \
    {                                                                                           \
        T x, y;                                                                                 \
        uint8_t z, p, c;                                                                        \
        uint32_t in = *mx, out, sv;                                                             \
        memcpy(&x, &a, sizeof x);                                                               \
        memcpy(&y, &b, sizeof y);                                                               \
        __asm__ volatile(ASM_PRE insn " %[y], %[x]\n\tsetz %[z]\n\tsetp %[p]\n\tsetc %[c]"      \
                                      ASM_POST                                                  \
                         : [z] "=q"(z), [p] "=q"(p), [c] "=q"(c), [out] "=m"(out),              \
                           [sv] "+m"(sv)                                                        \
                         : [in] "m"(in), [x] "x"(x), [y] "x"(y)                                 \
                         : "cc");                                                               \
        *mx = out;                                                                              \
        if (p)                                                                                  \
            return SF_CMP_UN;                                                                   \
        return z ? SF_CMP_EQ : c ? SF_CMP_LT : SF_CMP_GT;                                       \
    }
HOST_CMP(comiss, float, "comiss")
HOST_CMP(ucomiss, float, "ucomiss")
HOST_CMP(comisd, double, "comisd")
HOST_CMP(ucomisd, double, "ucomisd")

/* ROUNDSS/SD need an immediate: b selects it (0..15). */
#define ROUND_CASE(T, insn, imm)                                                                  \
    case imm:                                                                                   \
        __asm__ volatile(ASM_PRE insn " $" #imm ", %[y], %[x]" ASM_POST                         \
                         : [x] "+x"(x), [out] "=m"(out), [sv] "+m"(sv)                          \
                         : [in] "m"(in), [y] "x"(y));                                           \
        break;
#define HOST_ROUND(name, T, insn)                                                                 \
    static HOST_FN uint64_t host_##name(uint64_t a, uint64_t b, uint32_t *mx)                          \
    {                                                                                           \
        T x = 0, y;                                                                             \
        uint64_t r = 0;                                                                         \
        uint32_t in = *mx, out = 0, sv;                                                         \
        memcpy(&y, &a, sizeof y);                                                               \
        switch (b & 15) {                                                                       \
            ROUND_CASE(T, insn, 0) ROUND_CASE(T, insn, 1) ROUND_CASE(T, insn, 2)                 \
            ROUND_CASE(T, insn, 3) ROUND_CASE(T, insn, 4) ROUND_CASE(T, insn, 5)                 \
            ROUND_CASE(T, insn, 6) ROUND_CASE(T, insn, 7) ROUND_CASE(T, insn, 8)                 \
            ROUND_CASE(T, insn, 9) ROUND_CASE(T, insn, 10) ROUND_CASE(T, insn, 11)               \
            ROUND_CASE(T, insn, 12) ROUND_CASE(T, insn, 13) ROUND_CASE(T, insn, 14)              \
            ROUND_CASE(T, insn, 15)                                                             \
        }                                                                                       \
        memcpy(&r, &x, sizeof x);                                                               \
        *mx = out;                                                                              \
        return r;                                                                               \
    }
HOST_ROUND(roundss, float, "roundss")
HOST_ROUND(roundsd, double, "roundsd")

/* Operand kinds: F = f32, D = f64, I = int32, L = int64, M = ROUNDS* immediate. */
typedef struct sse_op {
    const char *name;
    host_fn host;
    soft_fn soft;
    char a_kind, b_kind;
    bool b_near_a; /* draw b close to a (cancellation, equal operands) */
} sse_op;

#define OP(n, ak, bk, near) { #n, host_##n, s_##n, ak, bk, near }
static const sse_op sse_ops[] = {
    OP(addss, 'F', 'F', true),      OP(subss, 'F', 'F', true),    OP(mulss, 'F', 'F', false),
    OP(divss, 'F', 'F', false),     OP(sqrtss, 'F', 'F', false),  OP(minss, 'F', 'F', true),
    OP(maxss, 'F', 'F', true),      OP(addsd, 'D', 'D', true),    OP(subsd, 'D', 'D', true),
    OP(mulsd, 'D', 'D', false),     OP(divsd, 'D', 'D', false),   OP(sqrtsd, 'D', 'D', false),
    OP(minsd, 'D', 'D', true),      OP(maxsd, 'D', 'D', true),    OP(cvtss2sd, 'F', 0, false),
    OP(cvtsd2ss, 'D', 0, false),    OP(cvtsi2ss32, 'I', 0, false), OP(cvtsi2ss64, 'L', 0, false),
    OP(cvtsi2sd32, 'I', 0, false),  OP(cvtsi2sd64, 'L', 0, false), OP(cvtss2si32, 'F', 0, false),
    OP(cvtss2si64, 'F', 0, false),  OP(cvttss2si32, 'F', 0, false), OP(cvttss2si64, 'F', 0, false),
    OP(cvtsd2si32, 'D', 0, false),  OP(cvtsd2si64, 'D', 0, false), OP(cvttsd2si32, 'D', 0, false),
    OP(cvttsd2si64, 'D', 0, false), OP(comiss, 'F', 'F', true),   OP(ucomiss, 'F', 'F', true),
    OP(comisd, 'D', 'D', true),     OP(ucomisd, 'D', 'D', true),  OP(roundss, 'F', 'M', false),
    OP(roundsd, 'D', 'M', false),
};

static uint64_t gen_operand(sfgen *g, char kind)
{
    switch (kind) {
    case 'F': return sfgen_f32(g);
    case 'D': return sfgen_f64(g);
    case 'I': return (uint64_t)(int64_t)(int32_t)(sfgen_mant(g, 32) >> sfgen_below(g, 32));
    case 'L': return sfgen_mant(g, 64) >> sfgen_below(g, 64);
    case 'M': return sfgen_below(g, 16);
    default: return 0;
    }
}

/* Host-side integer operands feed the float generator: keep the sign random too. */
static uint64_t gen_int(sfgen *g, char kind, uint64_t v)
{
    if (kind == 'I' && sfgen_below(g, 2))
        return (uint64_t)(int64_t)(int32_t)(0u - (uint32_t)v);
    if (kind == 'L' && sfgen_below(g, 2))
        return 0 - v;
    return v;
}

/* Unmasked exceptions fault (#XM -> SIGFPE); the handler reads the MXCSR the instruction left
 * and jumps back. Test-only statics: a signal handler has nowhere else to put them. */
static sigjmp_buf trap_jb;
static volatile uint32_t trap_mxcsr;

static void on_sigfpe(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    (void)si;
    trap_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    siglongjmp(trap_jb, 1);
}

/* Run the host instruction; returns true if it trapped (then *mx holds the trap's MXCSR). */
static bool host_call(const sse_op *op, uint64_t a, uint64_t b, uint32_t *mx, uint64_t *r)
{
    if (sigsetjmp(trap_jb, 1)) {
        uint32_t dflt = MXCSR_DEFAULT;
        *mx = trap_mxcsr;
        __asm__ volatile("ldmxcsr %0" : : "m"(dflt));
        return true;
    }
    *r = op->host(a, b, mx);
    return false;
}

static int run_sse_op(const sse_op *op, uint64_t seed, unsigned *cases)
{
    sfgen g = { seed };
    int fails = 0;
    *cases = 0;
    for (int rc = 0; rc < 4; rc++) {
        for (int i = 0; i < CASES_PER_MODE; i++) {
            uint64_t a = gen_int(&g, op->a_kind, gen_operand(&g, op->a_kind));
            uint64_t b = gen_operand(&g, op->b_kind);
            if (op->b_near_a && sfgen_below(&g, 3) == 0)
                b = sfgen_near(&g, a, op->a_kind == 'F' ? 23 : 52);
            if (op->a_kind == 'F')
                a &= 0xFFFFFFFFu;
            if (op->b_kind == 'F')
                b &= 0xFFFFFFFFu;
            uint32_t ftz = sfgen_below(&g, 4) == 0, daz = sfgen_below(&g, 4) == 0;
            uint32_t mx = MXCSR_DEFAULT | ((uint32_t)rc << 13) | (ftz << 15) | (daz << 6);
            if (sfgen_below(&g, 4) == 0)
                mx &= ~((uint32_t)sfgen_below(&g, 64) << 7); /* unmask some exceptions */
            uint32_t mx_out = mx;
            uint64_t want = 0;
            bool trapped = host_call(op, a, b, &mx_out, &want);
            sf_status st = sf_status_default();
            st.rounding = (uint8_t)rc;
            st.ftz = ftz;
            st.daz = daz;
            st.masks = (uint8_t)((mx >> 7) & SF_ALL_EXC);
            uint64_t got = op->soft(a, b, &st);
            bool soft_trap = (st.flags & ~st.masks & SF_ALL_EXC) != 0;
            (*cases)++;
            if (trapped != soft_trap || (!trapped && got != want) ||
                st.flags != (mx_out & SF_ALL_EXC)) {
                if (fails < 8)
                    fprintf(stderr,
                            "FAIL %s a=%#llx b=%#llx mxcsr=%#x: host %#llx flags %#x%s, "
                            "soft %#llx flags %#x%s\n",
                            op->name, (unsigned long long)a, (unsigned long long)b, mx,
                            (unsigned long long)want, mx_out & SF_ALL_EXC,
                            trapped ? " (#XM)" : "", (unsigned long long)got, st.flags,
                            soft_trap ? " (#XM)" : "");
                fails++;
            }
        }
    }
    return fails;
}

Test(softfloat_host_sse, differential)
{
    uint64_t seed = sfgen_seed();
    unsigned total = 0;
    int fails = 0;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigfpe;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, &old);
    for (size_t i = 0; i < sizeof sse_ops / sizeof sse_ops[0]; i++) {
        unsigned n;
        int f = run_sse_op(&sse_ops[i], seed + i, &n);
        fprintf(stderr, "softfloat sse %-12s cases %u pass %u\n", sse_ops[i].name, n,
                n - (unsigned)f);
        total += n;
        fails += f;
    }
    sigaction(SIGFPE, &old, NULL);
    fprintf(stderr, "softfloat sse seed %#llx: %u cases, %d failures\n", (unsigned long long)seed,
            total, fails);
    cr_assert_eq(fails, 0, "%d SSE differential failures (seed %#llx)", fails,
                 (unsigned long long)seed);
}

#endif
