/* Decoder/executor fuzz: seeded random byte streams run in hvemu in 64-bit and 32-bit mode
 * under an exit handler that always continues; cpu_run must return within its budget. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff_guest.h"
#include "diff_harness.h"

#define FUZZ_CODE 0x100000u   /* random code page(s), identity-mapped in both modes */
#define FUZZ_CODE_LEN 0x2000u
#define FUZZ_STACK 0x180000u
#define FUZZ_BUDGET 64u
#define FUZZ_CALLS 16u        /* cpu_run calls per iteration (a halt restarts at a random RIP) */
#define FUZZ_DEFAULT_ITERS 1000u
#define FUZZ_INSNS_PER_ITER 70u /* instruction cap per mode: iterations x this (70k in CI) */
/* Budget checks happen at block boundaries, so a run may retire a few more instructions than
 * asked; more than this means the budget is not honoured. */
#define FUZZ_OVERSHOOT_MAX 256u

static unsigned fuzz_iters(void)
{
    const char *s = getenv("HVEMU_FUZZ_ITERS");
    unsigned long n = s && *s ? strtoul(s, NULL, 0) : FUZZ_DEFAULT_ITERS;
    return (unsigned)n;
}

/* Prefixes and escapes that make random bytes reach more of the decoder. */
static const uint8_t fuzz_prefixes[] = {
    0x66, 0x67, 0xF2, 0xF3, 0xF0, 0x2E, 0x3E, 0x26, 0x64, 0x65, 0x36,
    0x40, 0x41, 0x44, 0x48, 0x49, 0x4C, 0x4F, 0x0F, 0x0F, 0x0F, 0xC4, 0xC5, 0x62,
};

static void fill_code(uint64_t *r, uint8_t *code, unsigned len)
{
    bool structured = diff_rand(r) & 1;
    unsigned i = 0;
    while (i < len) {
        if (!structured) {
            code[i++] = (uint8_t)diff_rand(r);
            continue;
        }
        unsigned np = (unsigned)(diff_rand(r) % 4);
        for (unsigned k = 0; k < np && i < len; k++)
            code[i++] = fuzz_prefixes[diff_rand(r) % sizeof(fuzz_prefixes)];
        unsigned nb = 1 + (unsigned)(diff_rand(r) % 8);
        for (unsigned k = 0; k < nb && i < len; k++)
            code[i++] = (uint8_t)diff_rand(r);
    }
}

struct fuzz_stats {
    uint64_t runs, insns, stops[8], exits, max_over, max_exits_per_run;
};

enum fuzz_mode { FUZZ_64, FUZZ_32, FUZZ_16 };

static void fuzz_mode(enum fuzz_mode fm)
{
    static const char *const names[] = {"64-bit", "32-bit", "16-bit real-mode"};
    const char *mode = names[fm];
    bool long_mode = fm == FUZZ_64;
    struct diff_guest *g = calloc(1, sizeof(*g));
    cr_assert_not_null(g);
    cr_assert_eq(dg_init(g, long_mode), 0, "fuzz %s: guest setup failed", mode);
    g->hlt_continue = true;
    g->real = fm == FUZZ_16;
    /* Real mode runs the code at CS base + IP, within the first 64 KiB of the segment. */
    gpa_t code_at = g->real ? (gpa_t)DG_REAL_CS << 4 : FUZZ_CODE;
    uint64_t rip_base = g->real ? 0 : FUZZ_CODE;
    /* Descriptor tables, stubs and page tables, restored before each iteration. */
    enum { PRISTINE = 0x20000 };
    uint8_t *pristine = malloc(PRISTINE);
    cr_assert_not_null(pristine);
    physmem_read(&g->pm, 0, pristine, PRISTINE);
    uint8_t *code = malloc(FUZZ_CODE_LEN);
    cr_assert_not_null(code);

    uint64_t seed = diff_seed();
    unsigned iters = fuzz_iters();
    bool trace = getenv("HVEMU_FUZZ_TRACE") != NULL;
    struct fuzz_stats st;
    memset(&st, 0, sizeof(st));
    uint64_t cap = (uint64_t)iters * FUZZ_INSNS_PER_ITER;
    unsigned it;
    for (it = 0; it < iters && st.insns < cap; it++) {
        uint64_t r = seed ^ ((uint64_t)(fm + 1) << 56) ^ (uint64_t)it * 0x9E3779B97F4A7C15ull;
        diff_rand(&r);
        if (trace) {
            printf("[fuzz] %s iteration %u seed=0x%" PRIx64 "\n", mode, it, seed);
            fflush(stdout);
        }
        physmem_write(&g->pm, 0, pristine, PRISTINE);
        fill_code(&r, code, FUZZ_CODE_LEN);
        physmem_write(&g->pm, code_at, code, FUZZ_CODE_LEN);
        uint64_t gpr[16];
        for (unsigned i = 0; i < 16; i++) {
            uint64_t v = diff_rand(&r);
            /* Half the registers point into RAM so memory operands mostly succeed. */
            gpr[i] = (v & 1) ? 0x100000u + (v >> 8) % 0x100000u : v;
            if (g->real && (v & 2))
                gpr[i] = (v >> 8) & 0xffff;
        }
        gpr[REG_RSP] = g->real ? 0x8000 : FUZZ_STACK;
        uint64_t rflags = 2 | (diff_rand(&r) & (DF_ARITH | DF_DF));
        g->sys_valid = false; /* the random code may have changed anything */
        dg_load(g, gpr, rflags, rip_base + diff_rand(&r) % 0x100);
        for (unsigned call = 0; call < FUZZ_CALLS; call++) {
            uint64_t before = cpu_icount(g->vp), exits_before = g->exits;
            enum cpu_stop stop = cpu_run(g->vp, FUZZ_BUDGET);
            uint64_t ran = cpu_icount(g->vp) - before;
            if (g->exits - exits_before > st.max_exits_per_run)
                st.max_exits_per_run = g->exits - exits_before;
            st.runs++;
            st.insns += ran;
            cr_assert_lt((unsigned)stop, 8u, "fuzz %s: iteration %u: bad stop reason %d", mode, it, (int)stop);
            st.stops[stop]++;
            if (ran > FUZZ_BUDGET && ran - FUZZ_BUDGET > st.max_over)
                st.max_over = ran - FUZZ_BUDGET;
            cr_assert_leq(ran, (uint64_t)FUZZ_BUDGET + FUZZ_OVERSHOOT_MAX,
                          "fuzz %s: iteration %u (seed 0x%" PRIx64 "): cpu_run(%u) retired %" PRIu64
                          " instructions", mode, it, seed, FUZZ_BUDGET, ran);
            if (stop == CPU_STOP_SHUTDOWN || stop == CPU_STOP_WAIT_SIPI) {
                cpu_reset(g->vp); /* leaves shutdown; dg_load rebuilds the rest */
                break;
            }
            if (cpu_is_halted(g->vp) || stop == CPU_STOP_HALT) {
                uint64_t rip = rip_base + diff_rand(&r) % FUZZ_CODE_LEN;
                if (g->real) {
                    /* The exception stubs run with CS = 0: reload the real-mode segments. */
                    g->sys_valid = false;
                    dg_load(g, gpr, rflags, rip);
                } else {
                    cpu_set_halted(g->vp, false);
                    cpu_set_rip(g->vp, rip);
                }
            }
        }
    }
    st.exits = g->exits;
    printf("[fuzz] %s: seed=0x%" PRIx64 " iterations=%u runs=%" PRIu64 " instructions=%" PRIu64
           " exits=%" PRIu64 " stops: budget=%" PRIu64 " halt=%" PRIu64 " exit=%" PRIu64
           " shutdown=%" PRIu64 " kick=%" PRIu64 " max-overshoot=%" PRIu64
           " max-exits-in-one-run=%" PRIu64 "\n",
           mode, seed, it, st.runs, st.insns, st.exits, st.stops[CPU_STOP_BUDGET],
           st.stops[CPU_STOP_HALT], st.stops[CPU_STOP_EXIT], st.stops[CPU_STOP_SHUTDOWN],
           st.stops[CPU_STOP_KICK], st.max_over, st.max_exits_per_run);
    fflush(stdout);
    free(code);
    free(pristine);
    dg_destroy(g);
    free(g);
}

Test(cpu_fuzz, random_bytes_64bit, .timeout = 300) { fuzz_mode(FUZZ_64); }
Test(cpu_fuzz, random_bytes_32bit, .timeout = 300) { fuzz_mode(FUZZ_32); }
Test(cpu_fuzz, random_bytes_16bit_real, .timeout = 300) { fuzz_mode(FUZZ_16); }
