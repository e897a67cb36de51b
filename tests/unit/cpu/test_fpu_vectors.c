/* Table-driven FPU/SIMD test on every host: the committed vectors (vectors/<family>.inc,
 * recorded on an x86-64 CPU by test_fpu_vectors_gen.c) run in hvemu alone, in a small test
 * guest, and every result quadword, flag and exception vector must match the host's. Prints
 * the case count per form. Knobs: HVEMU_FV_FORM=text runs only forms whose name contains
 * text; HVEMU_FV_VERBOSE=1 prints every mismatch (else the first two per form). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff_case.h"
#include "vectors/fpu_vectors.h"

#define FV_BUF_VA 0x10000000ull
#define FV_CODE_VA 0x20000000ull

struct fv_emu {
    struct diff_guest g;
    gpa_t buf_gpa, code_gpa;
};

struct fv_emu *fv_emu_create(void)
{
    struct fv_emu *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    if (dg_init(&e->g, true)) {
        free(e);
        return NULL;
    }
    e->buf_gpa = dg_map_va(&e->g, FV_BUF_VA);
    e->code_gpa = dg_map_va(&e->g, FV_CODE_VA);
    if (e->buf_gpa == UINT64_MAX || e->code_gpa == UINT64_MAX) {
        fv_emu_destroy(e);
        return NULL;
    }
    return e;
}

void fv_emu_destroy(struct fv_emu *e)
{
    if (!e)
        return;
    dg_destroy(&e->g);
    free(e);
}

void fv_defaults(uint64_t q[FV_QWORDS])
{
    memset(q, 0, FV_QWORDS * sizeof(q[0]));
    q[7] = 0x1F80ull << 32; /* reset MXCSR at 0x3C (fpctl forms) */
    q[8] = 0x1F80;          /* control input: MXCSR, all masked */
    q[9] = 0x1F80ull << 32; /* reset MXCSR at 0x4C */
}

int fv_emu_run(struct fv_emu *e, const uint8_t *code, unsigned len, const uint64_t in[FV_QWORDS],
               uint64_t out[FV_QWORDS])
{
    uint8_t blk[8 * FV_MEM_QWORDS], c[80];
    if (len + 1 > sizeof(c))
        return -2;
    for (unsigned i = 0; i < FV_MEM_QWORDS; i++)
        dv_put_le(blk + 8 * i, in[i], 8);
    physmem_write(&e->g.pm, e->buf_gpa + MEM_LO, blk, sizeof(blk));
    memcpy(c, code, len);
    c[len] = 0xF4;
    physmem_write(&e->g.pm, e->code_gpa, c, len + 1);
    uint64_t gpr[16] = {0}, xmm[16][2];
    memset(xmm, 0, sizeof(xmm));
    gpr[R_RBX] = FV_BUF_VA + MEM_LO;
    gpr[R_RSP] = FV_BUF_VA + STACK_OFF;
    gpr[R_RAX] = in[4];
    gpr[R_RCX] = in[2];
    gpr[R_RDX] = in[5];
    memcpy(xmm[0], in, 16);
    memcpy(xmm[1], in + 2, 16);
    dg_load(&e->g, gpr, 0x202, FV_CODE_VA);
    dg_load_xmm(&e->g, (const uint64_t(*)[2])xmm);
    struct dg_result er;
    dg_run(&e->g, 256, 8, &er);
    physmem_read(&e->g.pm, e->buf_gpa + MEM_LO, blk, sizeof(blk));
    for (unsigned i = 0; i < FV_MEM_QWORDS; i++)
        out[i] = dv_get_le(blk + 8 * i, 8);
    memcpy(out + FV_Q_XMM0, er.xmm[0], 16);
    memcpy(out + FV_Q_XMM1, er.xmm[1], 16);
    out[FV_Q_RAX] = er.gpr[R_RAX];
    out[FV_Q_RCX] = er.gpr[R_RCX];
    out[FV_Q_RDX] = er.gpr[R_RDX];
    out[FV_Q_FLAGS] = er.rflags & FV_FLAGS_MASK;
    if (er.vector >= 0)
        return er.vector;
    return er.halted && er.rip == FV_CODE_VA + len + 1 ? -1 : -2;
}

void fv_initial(const uint64_t in[FV_QWORDS], uint64_t st[FV_QWORDS])
{
    memcpy(st, in, FV_MEM_QWORDS * sizeof(st[0]));
    st[FV_Q_XMM0] = in[0];
    st[FV_Q_XMM0 + 1] = in[1];
    st[FV_Q_XMM1] = in[2];
    st[FV_Q_XMM1 + 1] = in[3];
    st[FV_Q_RAX] = in[4];
    st[FV_Q_RCX] = in[2];
    st[FV_Q_RDX] = in[5];
    st[FV_Q_FLAGS] = 0x202 & FV_FLAGS_MASK;
}

/* ULP distance of two finite non-zero f80 values of one sign, else UINT64_MAX. */
static uint64_t f80_ulps(uint64_t m1, uint16_t se1, uint64_t m2, uint16_t se2)
{
    if (((se1 ^ se2) & 0x8000) || (se1 & 0x7FFF) == 0x7FFF || (se2 & 0x7FFF) == 0x7FFF || !m1 || !m2)
        return UINT64_MAX;
    /* exponent * 2^63 + fraction is monotonic in the magnitude of normal values. */
    uint64_t e1 = se1 & 0x7FFFu, e2 = se2 & 0x7FFFu, f1 = m1 & INT64_MAX, f2 = m2 & INT64_MAX;
    if (e1 == e2)
        return f1 > f2 ? f1 - f2 : f2 - f1;
    if (e1 + 1 == e2 && f1 == INT64_MAX && f2 == 0)
        return 1;
    if (e2 + 1 == e1 && f2 == INT64_MAX && f1 == 0)
        return 1;
    return UINT64_MAX;
}

int fv_compare(uint8_t vec, const uint64_t want[FV_QWORDS], int ev, const uint64_t eo[FV_QWORDS],
               unsigned tol)
{
    if (vec == FV_NO_VECTOR ? ev != -1 : ev != vec)
        return FV_QWORDS;
    unsigned n = vec == FV_NO_VECTOR ? FV_QWORDS : FV_MEM_QWORDS;
    for (unsigned i = 0; i < n; i++) {
        if (want[i] == eo[i])
            continue;
        if (tol && (i == 4 || i == 6) && want[i + 1] >> 16 == eo[i + 1] >> 16 &&
            f80_ulps(want[i], (uint16_t)want[i + 1], eo[i], (uint16_t)eo[i + 1]) <= tol) {
            i++; /* the sign/exponent word was part of the distance */
            continue;
        }
        if (tol && i == FV_Q_RAX && !((want[i] ^ eo[i]) & ~0x230ull))
            continue;
        return (int)i;
    }
    return -1;
}

/* ---- the tables ---- */
static const struct fv_form fv_forms[] = {
#include "vectors/x87.inc"
#include "vectors/x87_trans.inc"
#include "vectors/fpctl.inc"
#include "vectors/sse_int.inc"
#include "vectors/sse_new.inc"
#include "vectors/sse_fp.inc"
#include "vectors/mmx.inc"
#include "vectors/mmx_cvt.inc"
#include "vectors/sse42.inc"
#include "vectors/sse41_rest.inc"
#include "vectors/aes_pclmul.inc"
};

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes n bytes of hex at *p (advancing it); false on malformed text. */
static bool unhex(const char **p, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int h = hexval((*p)[0]), l = h < 0 ? -1 : hexval((*p)[1]);
        if (h < 0 || l < 0)
            return false;
        out[i] = (uint8_t)(h << 4 | l);
        *p += 2;
    }
    return true;
}

static bool unhex_q(const char **p, uint64_t *v)
{
    uint8_t b[8];
    if (!unhex(p, b, 8))
        return false;
    *v = dv_get_le(b, 8);
    return true;
}

static const char *const qnames[FV_QWORDS + 1] = {
    "mem+0x00", "mem+0x08", "mem+0x10", "mem+0x18", "mem+0x20", "mem+0x28", "mem+0x30",
    "mem+0x38", "mem+0x40", "mem+0x48", "xmm0.lo", "xmm0.hi", "xmm1.lo", "xmm1.hi", "rax",
    "rcx", "rdx", "rflags", "exception vector"};

/* Runs one form's cases; returns the number of mismatches (a malformed table counts all). */
static unsigned run_form(struct fv_emu *e, const struct fv_form *f, bool verbose)
{
    uint8_t creg[64], cmem[64];
    size_t lreg = strlen(f->code_reg) / 2, lmem = strlen(f->code_mem) / 2;
    const char *p = f->code_reg, *m = f->code_mem;
    if (lreg > sizeof(creg) || lmem > sizeof(cmem) || !unhex(&p, creg, lreg) || !unhex(&m, cmem, lmem))
        return f->ncases ? f->ncases : 1;
    unsigned bad = 0, shown = 0;
    const char *c = f->cases;
    for (unsigned k = 0; k < f->ncases; k++) {
        uint8_t hdr[3];
        uint64_t in[FV_QWORDS], want[FV_QWORDS], out[FV_QWORDS];
        fv_defaults(in);
        if (!unhex(&c, hdr, 3))
            return bad + f->ncases - k;
        for (unsigned i = 0; i < FV_QWORDS; i++)
            if ((f->in_mask >> i & 1) && !unhex_q(&c, &in[i]))
                return bad + f->ncases - k;
        fv_initial(in, want);
        for (unsigned i = 0; i < FV_QWORDS; i++)
            if ((f->out_mask >> i & 1) && !unhex_q(&c, &want[i]))
                return bad + f->ncases - k;
        bool mem = hdr[0] & 1;
        const uint8_t *code = mem ? cmem : creg;
        size_t len = mem ? lmem : lreg;
        uint8_t ip = mem ? f->imm_mem : f->imm_reg, buf[64];
        if (!len)
            return bad + f->ncases - k;
        memcpy(buf, code, len);
        if (ip != FV_NO_IMM && ip < len)
            buf[ip] = hdr[1];
        int ev = fv_emu_run(e, buf, (unsigned)len, in, out);
        int d = fv_compare(hdr[2], want, ev, out, f->tol);
        if (d < 0)
            continue;
        bad++;
        if (verbose || shown++ < 2) {
            printf("[fpu_vectors] MISMATCH %s/%s case %u (%s variant, imm %#x): %s: host ", f->family,
                   f->name, k, mem ? "memory" : "register", hdr[1], qnames[d]);
            if (d == FV_QWORDS)
                printf("%d hvemu %d\n", hdr[2] == FV_NO_VECTOR ? -1 : hdr[2], ev);
            else
                printf("%016llx hvemu %016llx\n", (unsigned long long)want[d], (unsigned long long)out[d]);
            printf("    input:");
            for (unsigned i = 0; i < FV_QWORDS; i++)
                if (f->in_mask >> i & 1)
                    printf(" %s=%016llx", qnames[i], (unsigned long long)in[i]);
            printf("\n");
        }
    }
    return bad;
}

Test(cpu_fpu_vectors, tables, .timeout = 300)
{
    struct fv_emu *e = fv_emu_create();
    cr_assert(e, "test guest setup failed");
    const char *only = getenv("HVEMU_FV_FORM");
    bool verbose = getenv("HVEMU_FV_VERBOSE") != NULL;
    unsigned bad = 0, total = 0, forms = 0, bad_forms = 0;
    const char *fam = "";
    unsigned fam_cases = 0, fam_forms = 0;
    for (size_t i = 0; i <= ARRAY_SIZE(fv_forms); i++) {
        const struct fv_form *f = i < ARRAY_SIZE(fv_forms) ? &fv_forms[i] : NULL;
        if (!f || strcmp(f->family, fam) != 0) {
            if (fam_forms)
                printf("[fpu_vectors] family %-11s %4u forms %6u cases\n", fam, fam_forms, fam_cases);
            if (!f)
                break;
            fam = f->family;
            fam_cases = fam_forms = 0;
        }
        if (only && *only && !strstr(f->name, only))
            continue;
        unsigned b = run_form(e, f, verbose);
        printf("[fpu_vectors] %-11s %-40s cases %4u pass %4u%s%s\n", f->family, f->name, f->ncases,
               f->ncases - (b > f->ncases ? f->ncases : b), f->tol ? " (within 1 ulp)" : "",
               b ? " (FAIL)" : "");
        bad += b;
        bad_forms += b != 0;
        total += f->ncases;
        forms++;
        fam_cases += f->ncases;
        fam_forms++;
    }
    printf("[fpu_vectors] %u forms, %u cases, %u mismatching cases in %u forms\n", forms, total, bad,
           bad_forms);
    fv_emu_destroy(e);
    cr_expect_eq(bad, 0u, "%u vector cases disagree with the recorded host results", bad);
}
