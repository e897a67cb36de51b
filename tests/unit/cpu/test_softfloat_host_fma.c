/* FMA3 scalar forms against the host (x86-64 with FMA): all 24 VFM[N]ADD/SUB 132/213/231
 * SS/SD variants, every rounding mode, random FTZ/DAZ, results and MXCSR flags bit-exact. */
#include <criterion/criterion.h>
#include <string.h>

#include "test_softfloat_gen.h"

#if defined(__x86_64__) && defined(__GNUC__)

#define CASES_PER_MODE 2500

typedef uint64_t (*fma_host_fn)(uint64_t a, uint64_t b, uint64_t c, uint32_t *mxcsr);

#define HOST_FMA(name, T, insn)                                                                   \
    static __attribute__((noipa)) uint64_t host_##name(uint64_t a, uint64_t b, uint64_t c, uint32_t *mx)            \
    {                                                                                           \
        T x, y, z;                                                                              \
        uint64_t r = 0;                                                                         \
        uint32_t in = *mx, out, sv;                                                             \
        memcpy(&x, &a, sizeof x);                                                               \
        memcpy(&y, &b, sizeof y);                                                               \
        memcpy(&z, &c, sizeof z);                                                               \
        __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[in]\n\t" insn " %[z], %[y], %[x]\n\t"      \
                         "stmxcsr %[out]\n\tldmxcsr %[sv]"                                      \
                         : [x] "+x"(x), [out] "=m"(out), [sv] "+m"(sv)                          \
                         : [in] "m"(in), [y] "x"(y), [z] "x"(z));                               \
        memcpy(&r, &x, sizeof x);                                                               \
        *mx = out;                                                                              \
        return r;                                                                               \
    }
#define HOST_FMA_FORMS(kind, T, sfx)                                                              \
    HOST_FMA(kind##132##sfx, T, "v" #kind "132" #sfx)                                            \
    HOST_FMA(kind##213##sfx, T, "v" #kind "213" #sfx)                                            \
    HOST_FMA(kind##231##sfx, T, "v" #kind "231" #sfx)
HOST_FMA_FORMS(fmadd, float, ss)
HOST_FMA_FORMS(fmsub, float, ss)
HOST_FMA_FORMS(fnmadd, float, ss)
HOST_FMA_FORMS(fnmsub, float, ss)
HOST_FMA_FORMS(fmadd, double, sd)
HOST_FMA_FORMS(fmsub, double, sd)
HOST_FMA_FORMS(fnmadd, double, sd)
HOST_FMA_FORMS(fnmsub, double, sd)

typedef struct fma_op {
    const char *name;
    fma_host_fn host;
    bool dbl;
    int form;
    bool neg_mul, neg_add;
} fma_op;

#define F(kind, form, sfx, d, nm, na) { #kind #form #sfx, host_##kind##form##sfx, d, form, nm, na }
#define FORMS(kind, sfx, d, nm, na) F(kind, 132, sfx, d, nm, na), F(kind, 213, sfx, d, nm, na), \
                                    F(kind, 231, sfx, d, nm, na)
static const fma_op fma_ops[] = {
    FORMS(fmadd, ss, false, false, false), FORMS(fmsub, ss, false, false, true),
    FORMS(fnmadd, ss, false, true, false), FORMS(fnmsub, ss, false, true, true),
    FORMS(fmadd, sd, true, false, false),  FORMS(fmsub, sd, true, false, true),
    FORMS(fnmadd, sd, true, true, false),  FORMS(fnmsub, sd, true, true, true),
};

/* Operands that make the fused sum interesting: an addend near -a*b for cancellation. */
static void gen_fma(sfgen *g, bool dbl, uint64_t *a, uint64_t *b, uint64_t *c)
{
    *a = dbl ? sfgen_f64(g) : sfgen_f32(g);
    *b = dbl ? sfgen_f64(g) : sfgen_f32(g);
    *c = dbl ? sfgen_f64(g) : sfgen_f32(g);
    if (sfgen_below(g, 3) == 0) {
        sf_status st = sf_status_default();
        uint64_t p = dbl ? f64_mul(*a, *b, &st) : f32_mul((f32)*a, (f32)*b, &st);
        *c = sfgen_near(g, p ^ (dbl ? 1ull << 63 : 1ull << 31), dbl ? 52 : 23);
        if (!dbl)
            *c &= 0xFFFFFFFFu;
    }
}

Test(softfloat_host_fma, differential)
{
    if (!__builtin_cpu_supports("fma")) {
        fprintf(stderr, "softfloat fma: host has no FMA, skipped\n");
        return;
    }
    uint64_t seed = sfgen_seed();
    int fails = 0;
    unsigned total = 0;
    for (size_t k = 0; k < sizeof fma_ops / sizeof fma_ops[0]; k++) {
        const fma_op *op = &fma_ops[k];
        sfgen g = { seed + 300 + k };
        int op_fails = 0;
        unsigned n = 0;
        for (int rc = 0; rc < 4; rc++) {
            for (int i = 0; i < CASES_PER_MODE; i++) {
                uint64_t a, b, c;
                gen_fma(&g, op->dbl, &a, &b, &c);
                uint32_t ftz = sfgen_below(&g, 4) == 0, daz = sfgen_below(&g, 4) == 0;
                uint32_t mx = 0x1F80u | ((uint32_t)rc << 13) | (ftz << 15) | (daz << 6);
                uint32_t mx_out = mx;
                uint64_t want = op->host(a, b, c, &mx_out);
                sf_status st = sf_status_default();
                st.rounding = (uint8_t)rc;
                st.ftz = ftz;
                st.daz = daz;
                uint64_t got = op->dbl ? f64_fma(a, b, c, op->form, op->neg_mul, op->neg_add, &st)
                                       : f32_fma((f32)a, (f32)b, (f32)c, op->form, op->neg_mul,
                                                 op->neg_add, &st);
                n++;
                if (got != want || st.flags != (mx_out & SF_ALL_EXC)) {
                    if (op_fails < 6)
                        fprintf(stderr,
                                "FAIL %s a=%#llx b=%#llx c=%#llx mxcsr=%#x: host %#llx flags %#x, "
                                "soft %#llx flags %#x\n",
                                op->name, (unsigned long long)a, (unsigned long long)b,
                                (unsigned long long)c, mx, (unsigned long long)want,
                                mx_out & SF_ALL_EXC, (unsigned long long)got, st.flags);
                    op_fails++;
                }
            }
        }
        fprintf(stderr, "softfloat fma %-12s cases %u pass %u\n", op->name, n,
                n - (unsigned)op_fails);
        fails += op_fails;
        total += n;
    }
    fprintf(stderr, "softfloat fma seed %#llx: %u cases, %d failures\n", (unsigned long long)seed,
            total, fails);
    cr_assert_eq(fails, 0, "%d FMA differential failures (seed %#llx)", fails,
                 (unsigned long long)seed);
}

#endif
