/* Differential-test runner: runs each generated case on the host and in hvemu at the same
 * virtual addresses, compares registers, flags, RIP and memory, and reports per form. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "diff_case.h"

#define MAX_DUMPS 3
#define DEFAULT_SEED 0x6876656D75ull /* "hvemu" */
#define DEFAULT_CASES 300u

static const char *const reg_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

uint64_t diff_seed(void)
{
    const char *s = getenv("HVEMU_DIFF_SEED");
    return s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
}

unsigned diff_cases(void)
{
    const char *s = getenv("HVEMU_DIFF_CASES");
    unsigned long n = s && *s ? strtoul(s, NULL, 0) : DEFAULT_CASES;
    return n ? (unsigned)n : 1;
}

struct form_stats {
    unsigned pass[4], fail[4], emu_ud[4], emu_other_fault[4], not_halted[4], host_fault[4];
};

static void dump_regs(const char *tag, const uint64_t *g, uint64_t fl)
{
    printf("    %-7s", tag);
    for (unsigned i = 0; i < 16; i++)
        printf("%s%s=%016" PRIx64, i && i % 4 == 0 ? "\n           " : " ", reg_names[i], g[i]);
    printf("\n           rflags=%04" PRIx64 "\n", fl);
}

static void report_mismatch(struct diff_ctx *x, const char *family, const struct diff_form *f,
                            const struct diff_case *c, unsigned idx, int nvec,
                            const struct native_regs *nout, const struct dg_result *er,
                            uint32_t fmask, const char *why)
{
    if (f->emu_xor || (x->dumps++ >= MAX_DUMPS && !getenv("HVEMU_DIFF_VERBOSE")))
        return;
    printf("[diff] MISMATCH %s/%s %u-bit %s: %s\n", family, f->name, c->size * 8,
           c->mem ? "mem" : "reg", why);
    printf("    seed=0x%" PRIx64 " case=%u (rerun: HVEMU_DIFF_SEED=0x%" PRIx64
           " HVEMU_DIFF_FORM='%s' HVEMU_DIFF_CASE=%u)\n", x->seed, idx, x->seed, f->name, idx);
    printf("    bytes:");
    for (unsigned i = 0; i < c->len; i++)
        printf(" %02x", c->code[i]);
    /* Disassemble the instruction (every one of an E_SEQ sequence). */
    printf("   =");
    for (unsigned at = 0; at < c->insn_len;) {
        ZydisDisassembledInstruction dis;
        if (!ZYAN_SUCCESS(ZydisDisassembleIntel(f->compat ? ZYDIS_MACHINE_MODE_LONG_COMPAT_32
                                                          : ZYDIS_MACHINE_MODE_LONG_64,
                                                x->insn_va + at, c->code + at, c->len - at, &dis))) {
            printf(" ?");
            break;
        }
        printf("%s %s", at ? ";" : "", dis.text);
        at += dis.info.length;
        if (f->enc != E_SEQ)
            break;
    }
    printf("%s   at rip=%016" PRIx64 " (then f4)\n",
           c->len > c->insn_len ? " + SETcc of each defined flag (OF CF ZF SF PF) into r11b..r15b" : "",
           x->insn_va);
    if (x->cur_split)
        printf("    (placed %u bytes before a page boundary)\n", x->cur_split);
    dump_regs("input", c->gpr, c->rflags);
    if (f->xmm)
        for (unsigned k = 0; k < 16; k += 2)
            printf("           xmm%-2u=%016" PRIx64 ":%016" PRIx64 " xmm%-2u=%016" PRIx64 ":%016" PRIx64 "\n",
                   k, c->xmm[k][1], c->xmm[k][0], k + 1, c->xmm[k + 1][1], c->xmm[k + 1][0]);
    if (nvec >= 0)
        printf("    native: exception vector %d (fault address %016" PRIx64 ")\n", nvec,
               native_exec_fault_addr(x->nx));
    else
        dump_regs("native", nout->gpr, nout->rflags);
    printf("    hvemu : stop=%d halted=%d vector=%d rip=%016" PRIx64 " cr2=%016" PRIx64
           " icount=%" PRIu64 "\n", (int)er->stop, er->halted, er->vector, er->rip, er->cr2,
           er->icount);
    if (nvec < 0) {
        for (unsigned i = 0; i < 16; i++)
            if (nout->gpr[i] != er->gpr[i])
                printf("    %-4s native=%016" PRIx64 " hvemu=%016" PRIx64 "\n", reg_names[i],
                       nout->gpr[i], er->gpr[i]);
        for (unsigned k = 0; k < 16; k++)
            if (memcmp(nout->xmm[k], er->xmm[k], 16))
                printf("    xmm%-2u input=%016" PRIx64 ":%016" PRIx64 " native=%016" PRIx64 ":%016" PRIx64
                       " hvemu=%016" PRIx64 ":%016" PRIx64 "\n", k, c->xmm[k][1], c->xmm[k][0],
                       nout->xmm[k][1], nout->xmm[k][0], er->xmm[k][1], er->xmm[k][0]);
        if ((nout->rflags ^ er->rflags) & fmask)
            printf("    flags native=%04" PRIx64 " hvemu=%04" PRIx64 " compared=%03x\n",
                   nout->rflags & fmask, er->rflags & fmask, fmask);
    }
    for (unsigned i = 0; i < (nvec < 0 ? WIN_SIZE : CMP_SIZE); i++)
        if (x->after[i] != x->emu_mem[i]) {
            uint64_t va = x->buf_va + (i < CMP_SIZE ? i : STK_LO + (i - CMP_SIZE));
            printf("    mem[%016" PRIx64 "] native=%02x hvemu=%02x (first difference)\n", va,
                   x->after[i], x->emu_mem[i]);
            break;
        }
    fflush(stdout);
}

static unsigned size_idx(unsigned size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

static uint64_t case_seed(uint64_t seed, const char *name, unsigned size, unsigned idx)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *s = name; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    uint64_t r = seed ^ h ^ ((uint64_t)size << 56) ^ (uint64_t)idx * 0x9E3779B97F4A7C15ull;
    diff_rand(&r);
    return r;
}

static void win_save(const struct diff_ctx *x, uint8_t *dst)
{
    memcpy(dst, x->buf, CMP_SIZE);
    memcpy(dst + CMP_SIZE, x->buf + STK_LO, STK_SIZE);
}

static void win_to_guest(struct diff_ctx *x, const uint8_t *src)
{
    physmem_write(&x->g.pm, x->buf_gpa, src, CMP_SIZE);
    physmem_write(&x->g.pm, x->buf_gpa + STK_LO, src + CMP_SIZE, STK_SIZE);
}

static void win_from_guest(struct diff_ctx *x, uint8_t *dst)
{
    physmem_read(&x->g.pm, x->buf_gpa, dst, CMP_SIZE);
    physmem_read(&x->g.pm, x->buf_gpa + STK_LO, dst + CMP_SIZE, STK_SIZE);
}

/* Every eighth case runs again from the same state without rewriting the code, so the
 * decoded block is reused; the result must not change. */
static const char *replay(struct diff_ctx *x, const struct diff_case *c, const struct dg_result *er,
                          uint32_t fmask)
{
    struct dg_result e2;
    win_to_guest(x, x->before);
    dg_load(&x->g, c->gpr, c->rflags | RFLAGS_IF, x->insn_va);
    dg_load_xmm(&x->g, c->xmm);
    dg_run(&x->g, 64, 8, &e2);
    uint8_t *m2 = malloc(WIN_SIZE);
    if (!m2)
        return NULL;
    win_from_guest(x, m2);
    bool same_mem = memcmp(m2, x->emu_mem, WIN_SIZE) == 0;
    free(m2);
    if (e2.halted != er->halted || e2.vector != er->vector || e2.rip != er->rip ||
        memcmp(e2.gpr, er->gpr, sizeof(e2.gpr)) || memcmp(e2.xmm, er->xmm, sizeof(e2.xmm)) ||
        ((e2.rflags ^ er->rflags) & fmask) || !same_mem)
        return "decode-cache replay differs from the first run";
    return NULL;
}

/* Runs one case; returns true when native and hvemu agree. */
static bool run_case(struct diff_ctx *x, const char *family, const struct diff_form *f,
                     unsigned size, unsigned idx, struct form_stats *st)
{
    uint64_t r = case_seed(x->seed, f->name, size, idx);
    x->insn_va = f->compat ? x->insn_va32 : x->insn_va64;
    x->insn_gpa = f->compat ? x->insn_gpa32 : x->insn_gpa64;
    /* One case in eight places the instruction across a code page boundary (split bytes in
     * the first page), which takes the decoder's page-crossing path. */
    unsigned split = 0;
    x->cur_split = 0;
    if (!f->compat && x->split_ok && idx % 8 == 6) {
        split = 1 + (unsigned)(case_seed(x->seed, "split", size, idx) % 12);
        x->insn_va = x->split_va - split;
        x->insn_gpa = x->split_gpa - split;
        x->cur_split = split;
    }
    struct diff_case c;
    diff_build_case(x, f, size, &r, &c);
    unsigned si = size_idx(size);
    if (!f->compat && f->enc != E_SEQ && idx % 4 == 3)
        diff_append_setcc(f, &c);

    win_save(x, x->before);
    struct native_regs nio;
    memcpy(nio.gpr, c.gpr, sizeof(nio.gpr));
    memcpy(nio.xmm, c.xmm, sizeof(nio.xmm));
    nio.rflags = c.rflags;
    x->g.compat = f->compat;
    int nvec = f->compat ? native_exec_run32(x->nx, c.code, c.len, &nio)
               : split   ? native_exec_run_split(x->nx, c.code, c.len, split, &nio)
                         : native_exec_run(x->nx, c.code, c.len, &nio);
    if (nvec >= 0)
        st->host_fault[si]++;

    uint8_t code[sizeof(c.code) + 1];
    memcpy(code, c.code, c.len);
    code[c.len] = 0xF4;
    code[c.op_pos] ^= f->emu_xor;
    win_save(x, x->after);
    win_to_guest(x, x->before);
    physmem_write(&x->g.pm, x->insn_gpa, code, c.len + 1);
    dg_load(&x->g, c.gpr, c.rflags | RFLAGS_IF, x->insn_va);
    dg_load_xmm(&x->g, c.xmm);
    struct dg_result er;
    dg_run(&x->g, 64, 8, &er);
    win_from_guest(x, x->emu_mem);

    if (f->compat) {
        /* Only EAX..EDI exist in 32-bit code; upper halves are undefined across the switch. */
        for (unsigned i = 0; i < 16; i++) {
            uint64_t m = i < 8 ? 0xffffffffull : 0;
            nio.gpr[i] &= m;
            er.gpr[i] &= m;
            c.gpr[i] &= m;
        }
    }
    uint32_t fmask = (DF_ARITH | DF_DF) & ~diff_undef_flags(f, &c);
    const char *why = NULL;
    if (nvec >= 0) {
        memcpy(nio.gpr, c.gpr, sizeof(nio.gpr));
        memcpy(nio.xmm, c.xmm, sizeof(nio.xmm));
        nio.rflags = c.rflags;
        if (er.vector != nvec)
            why = "exception differs";
        else if (nvec == 14 && er.cr2 != native_exec_fault_addr(x->nx))
            why = "CR2 differs from the host's fault address";
        else if ((er.rflags ^ c.rflags) & DF_ARITH)
            why = "flags changed by a faulting instruction";
        for (unsigned i = 0; !why && i < 16; i++)
            if (i != R_RSP && er.gpr[i] != nio.gpr[i])
                why = "registers changed by a faulting instruction";
        if (!why && memcmp(er.xmm, nio.xmm, sizeof(er.xmm)))
            why = "XMM registers changed by a faulting instruction";
        fmask &= DF_ARITH;
    } else if (!er.halted) {
        why = "hvemu did not reach the HLT after the instruction";
        st->not_halted[si]++;
    } else if (er.vector >= 0) {
        why = "hvemu raised an exception, the host did not";
        if (er.vector == 6)
            st->emu_ud[si]++;
        else
            st->emu_other_fault[si]++;
    } else if (er.rip != x->insn_va + c.len + 1) {
        why = "RIP differs";
    } else if (memcmp(nio.gpr, er.gpr, sizeof(nio.gpr))) {
        why = "registers differ";
    } else if (memcmp(nio.xmm, er.xmm, sizeof(nio.xmm))) {
        why = "XMM registers differ";
    } else if ((nio.rflags ^ er.rflags) & fmask) {
        why = "flags differ";
    }
    if (!why && memcmp(x->after, x->emu_mem, nvec < 0 ? WIN_SIZE : CMP_SIZE))
        why = "memory differs";
    if (!why && !f->compat && !f->emu_xor && idx % 8 == 5)
        why = replay(x, &c, &er, fmask);
    if (why) {
        report_mismatch(x, family, f, &c, idx, nvec, &nio, &er, fmask, why);
        st->fail[si]++;
        return false;
    }
    st->pass[si]++;
    return true;
}

static void print_stats(const char *family, const struct diff_form *f, const struct form_stats *st,
                        bool gated)
{
    printf("[diff] %-8s %-22s", family, f->name);
    if (f->emu_xor)
        printf(" [self-test: hvemu runs another opcode, mismatches expected]");
    if (gated) {
        printf(" skipped (host lacks %s)\n", native_feature_name((enum native_feature)f->feature));
        return;
    }
    for (unsigned s = 0; s < 4; s++) {
        if (!(f->sizes & (1u << s)))
            continue;
        unsigned tot = st->pass[s] + st->fail[s];
        printf(" %2u:%u/%u", 8u << s, st->pass[s], tot);
        /* Faults on the host are expected only for #DE forms; many elsewhere mean a bad
         * encoding in the table. */
        if (st->host_fault[s])
            printf("(host-faults=%u)", st->host_fault[s]);
        if (st->fail[s]) {
            printf("(FAIL");
            if (st->emu_ud[s])
                printf(" emu#UD=%u", st->emu_ud[s]);
            if (st->emu_other_fault[s])
                printf(" emu-fault=%u", st->emu_other_fault[s]);
            if (st->not_halted[s])
                printf(" no-HLT=%u", st->not_halted[s]);
            printf(")");
        }
    }
    printf("\n");
}

unsigned diff_run_family(const char *family, const struct diff_form *forms, unsigned n)
{
    struct diff_ctx *x = calloc(1, sizeof(*x));
    if (!x)
        return 1;
    x->seed = diff_seed();
    x->nx = native_exec_create(BUF_VA, BUF_SIZE);
    if (!x->nx || dg_init(&x->g, true)) {
        printf("[diff] %s: setup failed (native executor or test guest)\n", family);
        native_exec_destroy(x->nx);
        free(x);
        return 1;
    }
    x->buf = native_exec_data(x->nx);
    x->buf_va = (uint64_t)(uintptr_t)x->buf;
    x->buf_low = x->buf_va + BUF_SIZE <= 0x100000000ull;
    x->insn_va64 = native_exec_insn_va(x->nx);
    x->insn_va32 = native_exec_insn_va32(x->nx);
    x->split_va = native_exec_insn_va_split(x->nx, 0);
    gpa_t before_split = dg_map_va(&x->g, x->split_va - 1);
    x->split_gpa = dg_map_va(&x->g, x->split_va);
    x->split_ok = x->split_va && before_split != UINT64_MAX && before_split + 1 == x->split_gpa &&
                  dg_map_va(&x->g, x->split_va + 64) == x->split_gpa + 64;
    x->buf_gpa = dg_map_va(&x->g, x->buf_va);
    x->insn_gpa64 = dg_map_va(&x->g, x->insn_va64);
    x->insn_gpa32 = x->insn_va32 ? dg_map_va(&x->g, x->insn_va32) : UINT64_MAX;
    unsigned fails = 0, forms_run = 0, forms_ok = 0, forms_gated = 0;
    if (x->buf_gpa == UINT64_MAX || x->insn_gpa64 == UINT64_MAX ||
        ((x->insn_va64 + 64) & ~0x1fffffull) != (x->insn_va64 & ~0x1fffffull)) {
        printf("[diff] %s: cannot map the host buffers into the guest\n", family);
        fails = 1;
        goto out;
    }
    const char *only = getenv("HVEMU_DIFF_FORM");
    const char *one_case = getenv("HVEMU_DIFF_CASE"); /* rerun a single reported case */
    long only_case = one_case && *one_case ? strtol(one_case, NULL, 0) : -1;
    unsigned cases = diff_cases();
    printf("[diff] family %s: seed=0x%" PRIx64 " cases per form and size=%u\n", family, x->seed, cases);
    for (unsigned i = 0; i < n; i++) {
        const struct diff_form *f = &forms[i];
        if (only && *only && !strstr(f->name, only))
            continue;
        struct form_stats st;
        memset(&st, 0, sizeof(st));
        x->dumps = 0;
        bool gated = !native_has_feature((enum native_feature)f->feature);
        unsigned fails_before = fails;
        if (f->compat && (!native_exec_compat_ok(x->nx) || x->insn_gpa32 == UINT64_MAX)) {
            printf("[diff] %-8s %-22s skipped (no 32-bit code below 4 GiB on this host)\n",
                   family, f->name);
            forms_gated++;
            continue;
        }
        for (unsigned s = 0; !gated && s < 4; s++)
            if (f->sizes & (1u << s))
                for (unsigned k = 0; k < cases; k++)
                    if ((only_case < 0 || (long)k == only_case) &&
                        !run_case(x, family, f, 1u << s, k, &st))
                        fails++;
        print_stats(family, f, &st, gated);
        fflush(stdout);
        forms_gated += gated;
        forms_run += !gated;
        forms_ok += !gated && fails == fails_before;
    }
    printf("[diff] family %s: %u/%u forms agree with the host, %u skipped, %u mismatching cases\n",
           family, forms_ok, forms_run, forms_gated, fails);
    fflush(stdout);
out:
    dg_destroy(&x->g);
    native_exec_destroy(x->nx);
    free(x);
    return fails;
}
