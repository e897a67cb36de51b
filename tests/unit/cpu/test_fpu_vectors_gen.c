/* Generator of the committed FPU/SIMD vector tables (vectors/<family>.inc): every x87, SSE to
 * SSE4.2, MMX, AES and PCLMULQDQ form of the differential tests, run on the host CPU with
 * edge-value operands under each rounding mode, exceptions masked and unmasked; inputs and
 * the host's outputs are written out. It runs only when asked, on an x86-64 Linux host:
 *
 *   HVEMU_FPU_VECTORS_OUT=tests/unit/cpu/vectors build/tests/test_cpu \
 *       --filter 'cpu_fpu_vectors/generate'
 *
 * (from the source root). HVEMU_FPU_VECTORS_SEED changes the seed. Each case is also run in
 * hvemu and disagreements are printed, so a regeneration shows what changed at once. */
#include <criterion/criterion.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff_case.h"
#include "vectors/fpu_vectors.h"

extern const struct fv_family fv_family_x87, fv_family_x87_trans, fv_family_fpctl, fv_family_sse_int,
    fv_family_sse_new, fv_family_sse_fp, fv_family_mmx, fv_family_mmx_cvt, fv_family_sse42,
    fv_family_sse41_rest, fv_family_aes_pclmul;

static const struct fv_family *const families[] = {
    &fv_family_x87,   &fv_family_x87_trans, &fv_family_fpctl,    &fv_family_sse_int,      &fv_family_sse_new,
    &fv_family_sse_fp, &fv_family_mmx,     &fv_family_mmx_cvt,      &fv_family_sse42,
    &fv_family_sse41_rest, &fv_family_aes_pclmul,
};

#define CASES_X87 96u /* per form and operand size: x87 (80-bit operands, more encodings) */
#define CASES_FP 64u  /* SSE/MMX floating point: 4 per rounding mode and masking choice */
#define CASES_INT 16u /* integer-only forms (exact, fewer corner cases) */

static bool is_fp(const struct fv_family *fam, const struct diff_form *f)
{
    return fam->kind == FV_X87 || f->gen == G_FPCTL || f->lanes != L_INT || strstr(f->name, "cvt");
}

/* Builds the code of form f; 0 when it has no 64-bit vector form (compat, other encodings). */
static unsigned build(const struct fv_family *fam, const struct diff_form *f, unsigned size,
                      bool mem, uint8_t *out, uint8_t *imm_pos)
{
    unsigned n = 0;
    *imm_pos = FV_NO_IMM;
    if (f->compat)
        return 0;
    if (f->enc == E_SEQ) {
        if (mem)
            return 0;
        out[n++] = 0xDB; /* FNINIT */
        out[n++] = 0xE3;
        if (fam->kind == FV_X87) {
            if (f->seq_len < 2 || f->seq[0] != 0xDB || f->seq[1] != 0xE3)
                return 0;
            static const uint8_t fldcw[] = {0xD9, 0x6B, 0x40};
            memcpy(out + n, fldcw, 3);
            n += 3;
            memcpy(out + n, f->seq + 2, f->seq_len - 2u);
            n += f->seq_len - 2u;
            out[n++] = 0xDB;
            out[n++] = 0xE3;
        } else {
            memcpy(out + n, f->seq, f->seq_len);
            n += f->seq_len;
        }
        return n <= 48 ? n : 0;
    }
    if (f->enc != E_R_RM && f->enc != E_RM_R && f->enc != E_RM_EXT)
        return 0;
    if ((mem && f->mem == M_REG) || (!mem && f->mem == M_MEM) || (f->imm != I_NONE && f->imm != I_8))
        return 0;
    static const uint8_t pre[] = {0xDB, 0xE3, 0x0F, 0xAE, 0x53, 0x40}; /* fninit; ldmxcsr */
    static const uint8_t post[] = {0x0F, 0xAE, 0x5B, 0x48, 0x0F, 0xAE, 0x53, 0x4C};
    memcpy(out, pre, sizeof(pre));
    n = sizeof(pre);
    if (f->prefix)
        out[n++] = f->prefix;
    if (size == 8)
        out[n++] = 0x48;
    if (f->map >= 1)
        out[n++] = 0x0F;
    if (f->map == 2)
        out[n++] = 0x38;
    else if (f->map == 3)
        out[n++] = 0x3A;
    out[n++] = f->op;
    unsigned reg = f->enc == E_RM_EXT ? f->ext : 0;
    if (mem) {
        out[n++] = (uint8_t)(0x40 | reg << 3 | 3); /* [rbx+0x10] */
        out[n++] = 0x10;
    } else {
        out[n++] = (uint8_t)(0xC0 | reg << 3 | 1); /* xmm1 / ecx */
    }
    if (f->imm == I_8) {
        *imm_pos = (uint8_t)n;
        out[n++] = 0;
    }
    memcpy(out + n, post, sizeof(post));
    return n + (unsigned)sizeof(post);
}

/* Control values: case k picks rounding k % 4 and, by (k / 4) % 4, all exceptions masked
 * (twice as often), none masked, or a random mask set. */
static unsigned masks_for(unsigned k, uint64_t *r)
{
    switch ((k / 4) % 4) {
    case 0:
    case 1: return 0x3F;
    case 2: return 0;
    default: return (unsigned)diff_rand(r) & 0x3F;
    }
}

static uint16_t x87_cw(unsigned k, uint64_t *r)
{
    static const unsigned pcs[3] = {0, 2, 3};
    return (uint16_t)(masks_for(k, r) | 0x40 | pcs[diff_rand(r) % 3] << 8 | (k % 4) << 10);
}

static uint32_t mxcsr_for(unsigned k, uint64_t *r)
{
    uint64_t x = diff_rand(r);
    return masks_for(k, r) << 7 | (k % 4) << 13 | (uint32_t)(x & 1) << 6 | (uint32_t)(x >> 1 & 1) << 15 |
           ((x >> 2 & 3) == 0 ? (uint32_t)(x >> 8) & 0x3F : 0);
}

/* Inputs of case k: q[] complete, the stored quadwords in *in_mask. */
static void inputs(const struct fv_family *fam, const struct diff_form *f, unsigned k, uint64_t *r,
                   uint64_t q[FV_QWORDS], uint32_t *in_mask)
{
    fv_defaults(q);
    for (unsigned h = 0; h < 2; h++) {
        if (f->lanes == L_F80) {
            q[2 * h] = dv_f80_mant(r);
            q[2 * h + 1] = dv_f80_se(r);
        } else {
            dv_xmm(r, f->lanes, q + 2 * h);
        }
    }
    /* SDM domains of F2XM1 (|x| <= 1) and FYL2XP1 (|x| < 1 - sqrt(2)/2): the results outside
     * are undefined, so finite normal operands are brought inside. */
    int max_exp = strncmp(f->name, "f2xm1", 5) == 0 ? 0x3FFE : strncmp(f->name, "fyl2xp1", 7) == 0 ? 0x3FFC : 0;
    if (max_exp && f->lanes == L_F80 && (q[0] >> 63) && (int)(q[1] & 0x7FFF) > max_exp &&
        (q[1] & 0x7FFF) != 0x7FFF)
        q[1] = (q[1] & 0x8000) | (uint64_t)(max_exp - (int)(diff_rand(r) % 24));
    *in_mask = 0x0F;
    /* x87 sequences read A and B from memory only: 8 bytes of each for f64/f32 lanes. */
    bool x87 = f->enc == E_SEQ && (fam->kind == FV_X87 || (f->gen == G_FPCTL && !f->xmm));
    if (x87 && (f->lanes == L_F64 || f->lanes == L_F32)) {
        q[1] = q[3] = 0;
        *in_mask = 0x05;
    }
    if ((f->enc == E_SEQ && !x87) || strstr(f->name, "pcmpestr")) {
        q[4] = dv_value(r, 8);
        q[5] = dv_value(r, 8);
        *in_mask |= 0x30;
    }
    if (f->gen == G_FPCTL) {
        q[6] = x87_cw(k, r) | (uint64_t)mxcsr_for(k, r) << 32;
        *in_mask |= 1u << 6;
    } else if (fam->kind == FV_X87 && f->enc == E_SEQ) {
        q[8] = x87_cw(k, r);
        *in_mask |= 1u << 8;
    } else if (f->enc != E_SEQ && is_fp(fam, f)) {
        q[8] = mxcsr_for(k, r);
        *in_mask |= 1u << 8;
    }
}

static int run_native(struct native_exec *nx, const uint8_t *code, unsigned len,
                      const uint64_t in[FV_QWORDS], uint64_t out[FV_QWORDS])
{
    uint8_t *buf = native_exec_data(nx);
    uint8_t *blk = buf + MEM_LO;
    for (unsigned i = 0; i < FV_MEM_QWORDS; i++)
        dv_put_le(blk + 8 * i, in[i], 8);
    struct native_regs nr;
    memset(&nr, 0, sizeof(nr));
    nr.rflags = 0x202;
    nr.gpr[R_RBX] = (uint64_t)(uintptr_t)blk;
    nr.gpr[R_RSP] = (uint64_t)(uintptr_t)buf + STACK_OFF;
    nr.gpr[R_RAX] = in[4];
    nr.gpr[R_RCX] = in[2];
    nr.gpr[R_RDX] = in[5];
    memcpy(nr.xmm[0], in, 16);
    memcpy(nr.xmm[1], in + 2, 16);
    int v = native_exec_run(nx, code, len, &nr);
#if defined(__x86_64__)
    /* An unmasked exception leaves the host's x87/MXCSR state dirty: reset it. */
    uint32_t mx = 0x1F80;
    __asm__ volatile("fninit\n\tldmxcsr %0" : : "m"(mx));
#endif
    for (unsigned i = 0; i < FV_MEM_QWORDS; i++)
        out[i] = dv_get_le(blk + 8 * i, 8);
    memcpy(out + FV_Q_XMM0, nr.xmm[0], 16);
    memcpy(out + FV_Q_XMM1, nr.xmm[1], 16);
    out[FV_Q_RAX] = nr.gpr[R_RAX];
    out[FV_Q_RCX] = nr.gpr[R_RCX];
    out[FV_Q_RDX] = nr.gpr[R_RDX];
    out[FV_Q_FLAGS] = nr.rflags & FV_FLAGS_MASK;
    return v;
}

struct gcase {
    uint8_t mem, imm, vec;
    uint32_t in_mask;
    uint64_t in[FV_QWORDS], out[FV_QWORDS];
};

static void put_hex(FILE *o, const uint8_t *code, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        fprintf(o, "%02x", code[i]);
}

static void put_q(FILE *o, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        fprintf(o, "%02x", (unsigned)(v >> (8 * i)) & 0xFF);
}

static bool host_has(const struct fv_family *fam, const struct diff_form *f)
{
    if (!native_has_feature((enum native_feature)f->feature))
        return false;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (strcmp(fam->name, "aes_pclmul") == 0)
        return __get_cpuid(1, &a, &b, &c, &d) && (c >> 25 & 1) && (c >> 1 & 1);
    return true;
#else
    return false;
#endif
}

/* Writes one form (both operand sizes as separate entries); returns hvemu disagreements. */
static unsigned gen_form(FILE *o, struct native_exec *nx, struct fv_emu *emu,
                         const struct fv_family *fam, const struct diff_form *f, uint64_t seed,
                         unsigned *ncases)
{
    unsigned bad = 0;
    for (unsigned s = 0; s < 4; s++) {
        unsigned size = 1u << s;
        if (!(f->sizes & size))
            continue;
        uint8_t creg[64], cmem[64], ipr = FV_NO_IMM, ipm = FV_NO_IMM;
        unsigned lreg = build(fam, f, size, false, creg, &ipr);
        unsigned lmem = build(fam, f, size, true, cmem, &ipm);
        if (!lreg && !lmem)
            continue;
        bool x87 = fam->kind == FV_X87 || (f->gen == G_FPCTL && !f->xmm);
        /* Stack-fault forms hardly depend on the operands: one case per control choice. */
        unsigned n = strstr(f->name, " stack") ? CASES_INT : x87 ? CASES_X87 : is_fp(fam, f) ? CASES_FP : CASES_INT;
        struct gcase *cs = calloc(n, sizeof(*cs));
        if (!cs)
            return bad + 1;
        uint64_t r = seed ^ (uint64_t)size * 0x9E3779B97F4A7C15ull;
        for (const char *p = f->name; *p; p++)
            r = r * 131 + (uint8_t)*p;
        uint32_t out_mask = 0;
        unsigned tol = strcmp(fam->name, "x87_trans") == 0 ? 1 : 0;
        for (unsigned k = 0; k < n; k++) {
            struct gcase *c = &cs[k];
            inputs(fam, f, k, &r, c->in, &c->in_mask);
            c->mem = lmem && (!lreg || (k & 1));
            c->imm = (uint8_t)diff_rand(&r);
            uint8_t code[64];
            unsigned len = c->mem ? lmem : lreg;
            memcpy(code, c->mem ? cmem : creg, len);
            uint8_t ip = c->mem ? ipm : ipr;
            if (ip != FV_NO_IMM)
                code[ip] = c->imm;
            int v = run_native(nx, code, len, c->in, c->out);
            c->vec = v < 0 ? FV_NO_VECTOR : (uint8_t)v;
            uint64_t init[FV_QWORDS];
            fv_initial(c->in, init);
            if (v >= 0)
                memcpy(c->out + FV_MEM_QWORDS, init + FV_MEM_QWORDS,
                       (FV_QWORDS - FV_MEM_QWORDS) * sizeof(init[0]));
            for (unsigned i = 0; i < FV_QWORDS; i++)
                if (c->out[i] != init[i])
                    out_mask |= 1u << i;
            uint64_t eo[FV_QWORDS];
            int ev = fv_emu_run(emu, code, len, c->in, eo);
            if (fv_compare(c->vec, c->out, ev, eo, tol) >= 0 && bad++ < 3)
                printf("[fpu_vectors] hvemu differs: %s %s size %u case %u (vector host %d hvemu %d)\n",
                       fam->name, f->name, size * 8, k, v, ev);
        }
        const char *suffix = (f->sizes & (f->sizes - 1)) ? (size == 8 ? "/64" : "/32") : "";
        fprintf(o, "{\"%s\", \"%s%s\", \"", fam->name, f->name, suffix);
        put_hex(o, creg, lreg);
        fprintf(o, "\", \"");
        put_hex(o, cmem, lmem);
        fprintf(o, "\", %u, %u, %u, 0x%x, 0x%x, %u,\n", ipr, ipm, tol, cs[0].in_mask, out_mask, n);
        for (unsigned k = 0; k < n; k++) {
            const struct gcase *c = &cs[k];
            fprintf(o, " \"%02x%02x%02x", c->mem, c->imm, c->vec);
            for (unsigned i = 0; i < FV_QWORDS; i++)
                if (c->in_mask >> i & 1)
                    put_q(o, c->in[i]);
            for (unsigned i = 0; i < FV_QWORDS; i++)
                if (out_mask >> i & 1)
                    put_q(o, c->out[i]);
            fprintf(o, "\"%s\n", k + 1 == n ? "}," : "");
        }
        *ncases += n;
        free(cs);
    }
    return bad;
}

Test(cpu_fpu_vectors, generate, .timeout = 600)
{
    const char *dir = getenv("HVEMU_FPU_VECTORS_OUT");
    if (!dir || !*dir)
        cr_skip_test("set HVEMU_FPU_VECTORS_OUT=<dir> to regenerate the vector tables");
    if (!native_exec_supported())
        cr_skip_test("the generator needs an x86-64 Linux host");
    const char *se = getenv("HVEMU_FPU_VECTORS_SEED");
    uint64_t seed = se && *se ? strtoull(se, NULL, 0) : 0x66707576ull;
    struct native_exec *nx = native_exec_create(BUF_VA, BUF_SIZE);
    struct fv_emu *emu = fv_emu_create();
    cr_assert(nx && emu, "setup failed");
    char cpu[49] = {0};
#if defined(__x86_64__)
    unsigned w[12];
    for (unsigned l = 0; l < 3; l++)
        __get_cpuid(0x80000002 + l, &w[4 * l], &w[4 * l + 1], &w[4 * l + 2], &w[4 * l + 3]);
    memcpy(cpu, w, 48);
#endif
    unsigned bad = 0;
    for (size_t fi = 0; fi < ARRAY_SIZE(families); fi++) {
        const struct fv_family *fam = families[fi];
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s.inc", dir, fam->name);
        FILE *o = fopen(path, "w");
        cr_assert(o, "cannot write %s", path);
        fprintf(o, "/* FPU/SIMD vectors, family %s: generated by test_fpu_vectors_gen.c (seed "
                   "0x%" PRIx64 ") on \"%s\". Do not edit; regenerate. */\n",
                fam->name, seed, cpu);
        unsigned forms = 0, cases = 0;
        for (unsigned i = 0; i < fam->n; i++) {
            const struct diff_form *f = &fam->forms[i];
            if (!host_has(fam, f)) {
                printf("[fpu_vectors] %s %s skipped: the host lacks the feature\n", fam->name, f->name);
                continue;
            }
            unsigned before = cases;
            bad += gen_form(o, nx, emu, fam, f, seed, &cases);
            forms += cases != before;
        }
        fclose(o);
        printf("[fpu_vectors] wrote %s: %u forms, %u cases\n", path, forms, cases);
    }
    fv_emu_destroy(emu);
    native_exec_destroy(nx);
    cr_expect_eq(bad, 0u, "%u generated cases where hvemu disagrees with the host", bad);
}
