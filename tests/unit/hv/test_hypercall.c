/* The hypercall dispatcher: legal callers, conventions, generic input rules and their exact
 * HV_STATUS, rep calls and continuation. */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

enum mode { M64, M32, RING3, REAL, V86 };

struct hc_case {
    const char *what;
    const char *spec; /* --hv words on top of the defaults */
    enum mode mode;
    uint64_t control;
    gpa_t in, out;
    enum hv_call_action action;
    uint16_t status;
    unsigned reps;
};

#define FLUSH_SPACE 0x0002
#define FLUSH_LIST 0x0003
#define IPI 0x000B
#define POST 0x005C
#define SIGNAL 0x005D
#define EXTQ 0x8001

static const struct hc_case cases[] = {
    {"flush space, memory", "", M64, HC(FLUSH_SPACE), GPA_IN, 0, HV_CALL_DONE, 0, 0},
    {"32-bit convention", "", M32, HC(FLUSH_SPACE), GPA_IN, 0, HV_CALL_DONE, 0, 0},
    {"unimplemented code", "", M64, HC(0x0001), GPA_IN, 0, HV_CALL_DONE, 2, 0},
    {"unknown code", "", M64, HC(0x7FFF), GPA_IN, 0, HV_CALL_DONE, 2, 0},
    {"reserved bit 27", "", M64, HC(FLUSH_SPACE) | (1ull << 27), GPA_IN, 0, HV_CALL_DONE, 3, 0},
    {"reserved bit 31", "", M64, HC(FLUSH_SPACE) | (1ull << 31), GPA_IN, 0, HV_CALL_DONE, 3, 0},
    {"reserved bit 44", "", M64, HC(FLUSH_SPACE) | (1ull << 44), GPA_IN, 0, HV_CALL_DONE, 3, 0},
    {"reserved bit 63", "", M64, HC(FLUSH_SPACE) | (1ull << 63), GPA_IN, 0, HV_CALL_DONE, 3, 0},
    {"rep count on a simple call", "", M64, HC(FLUSH_SPACE) | HC_REP(1, 0), GPA_IN, 0, HV_CALL_DONE, 3, 0},
    {"rep start on a simple call", "", M64, HC(FLUSH_SPACE) | HC_REP(0, 1), GPA_IN, 0, HV_CALL_DONE, 3, 0},
    {"rep call with count 0", "", M64, HC(FLUSH_LIST), GPA_IN, 0, HV_CALL_DONE, 3, 0},
    {"rep start >= count", "", M64, HC(FLUSH_LIST) | HC_REP(2, 3), GPA_IN, 0, HV_CALL_DONE, 3, 2},
    {"variable header not accepted", "", M64, HC(FLUSH_SPACE) | HC_VARHEAD(1), GPA_IN, 0, HV_CALL_DONE, 3, 0},
    {"misaligned input", "", M64, HC(FLUSH_SPACE), GPA_IN + 4, 0, HV_CALL_DONE, 4, 0},
    {"input crosses a page", "", M64, HC(FLUSH_SPACE), GPA_IN + 4096 - 16, 0, HV_CALL_DONE, 4, 0},
    {"rep list crosses a page", "", M64, HC(FLUSH_LIST) | HC_REP(510, 0), GPA_IN + 8, 0, HV_CALL_DONE, 4, 0},
    {"rep list ends in the next page", "", M64, HC(FLUSH_LIST) | HC_REP(8, 5), GPA_IN + 4096 - 64, 0, HV_CALL_DONE, 4, 5},
    {"input beyond MAXPHYADDR", "", M64, HC(FLUSH_SPACE), 1ull << 40, 0, HV_CALL_DONE, 4, 0},
    {"input not in RAM", "", M64, HC(FLUSH_SPACE), FAKE_RAM + 0x1000, 0, HV_CALL_DONE, 5, 0},
    {"output misaligned", "ext-calls", M64, HC(EXTQ), 0, GPA_OUT + 2, HV_CALL_DONE, 4, 0},
    {"output ok, input ignored", "ext-calls", M64, HC(EXTQ), 3, GPA_OUT, HV_CALL_DONE, 0, 0},
    {"ext call not advertised", "", M64, HC(EXTQ), 0, GPA_OUT, HV_CALL_DONE, 6, 0},
    /* TLFS 14.5.1: "only HV_STATUS_SUCCESS will be returned", advertised or not. */
    {"spin wait not advertised", "", M64, HC(0x0008), GPA_IN, 0, HV_CALL_DONE, 0, 0},
    {"spin wait advertised", "spinlocks=4096", M64, HC(0x0008) | HC_FASTBIT, 0, 0, HV_CALL_DONE, 0, 0},
    {"flush not advertised", "-tlbflush", M64, HC(FLUSH_SPACE), GPA_IN, 0, HV_CALL_DONE, 6, 0},
    {"fast post message", "", M64, HC(POST) | HC_FASTBIT, 0, 0, HV_CALL_DONE, 3, 0},
    {"fast ext call (has output)", "ext-calls", M64, HC(EXTQ) | HC_FASTBIT, 0, 0, HV_CALL_DONE, 3, 0},
    {"fast flush with XMM input", "", M64, HC(FLUSH_SPACE) | HC_FASTBIT, 0, 0, HV_CALL_DONE, 0, 0},
    {"XMM input not advertised", "-xmm-input", M64, HC(FLUSH_SPACE) | HC_FASTBIT, 0, 0, HV_CALL_UD, 0, 0},
    {"fast input beyond XMM5", "", M64, HC(FLUSH_LIST) | HC_FASTBIT | HC_REP(12, 0), 0, 0, HV_CALL_DONE, 3, 0},
    {"fast 16-byte IPI", "-xmm-input", M64, HC(IPI) | HC_FASTBIT, 0x20, 1, HV_CALL_DONE, 0, 0},
    {"ring 3", "", RING3, HC(FLUSH_SPACE), GPA_IN, 0, HV_CALL_UD, 0, 0},
    {"real mode", "", REAL, HC(FLUSH_SPACE), GPA_IN, 0, HV_CALL_UD, 0, 0},
    {"virtual-8086 mode", "", V86, HC(FLUSH_SPACE), GPA_IN, 0, HV_CALL_UD, 0, 0},
};

static struct hv_call_regs make_regs(enum mode m, uint64_t control, uint64_t in, uint64_t out)
{
    struct hv_call_regs r = regs64(control, in, out);
    if (m != M64) {
        r.lma = r.cs_l = false;
        r.gpr[REG_RDX] = control >> 32;
        r.gpr[REG_RAX] = (uint32_t)control;
        r.gpr[REG_RBX] = in >> 32;
        r.gpr[REG_RCX] = (uint32_t)in;
        r.gpr[REG_RDI] = out >> 32;
        r.gpr[REG_RSI] = (uint32_t)out;
    }
    if (m == RING3)
        r.cpl = 3;
    if (m == REAL)
        r.pe = false;
    if (m == V86) {
        r.v86 = true;
        r.cpl = 3;
    }
    return r;
}

static uint64_t result_of(enum mode m, const struct hv_call_regs *r)
{
    return m == M64 ? r->gpr[REG_RAX] : (r->gpr[REG_RDX] << 32) | (uint32_t)r->gpr[REG_RAX];
}

Test(hv_hypercall, generic_rules)
{
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct hc_case *c = &cases[i];
        struct hv_config cfg;
        hv_config_default(&cfg);
        cr_assert_eq(hv_config_parse(&cfg, c->spec, NULL, 0), 0);
        struct fake_host *f = fake_create(&cfg, 2);
        fake_enable_hypercalls(f, GPA_HYPERCALL);
        /* A valid flush-space input (AddressSpace 0, flags 0, mask VP0) everywhere it is read. */
        put_u64(f, GPA_IN + 16, 1);
        put_u64(f, GPA_OUT, ~0ull);
        struct hv_call_regs r = make_regs(c->mode, c->control, c->in, c->out);
        r.xmm[0][0] = 1; /* fast flush: ProcessorMask in XMM0 */
        struct hv_call_regs before = r;
        enum hv_call_action a = hv_hypercall(f->p, fake_vp(f, 0), &r);
        cr_expect_eq(a, c->action, "%s: action %d", c->what, a);
        if (a == HV_CALL_DONE) {
            uint64_t res = result_of(c->mode, &r);
            cr_expect_eq(STATUS(res), c->status, "%s: status 0x%x (%s)", c->what, STATUS(res),
                         hv_status_name(STATUS(res)));
            cr_expect_eq(REPS(res), c->reps, "%s: reps %u", c->what, REPS(res));
            cr_expect_eq(res >> 44, 0, "%s: reserved result bits", c->what);
        } else {
            cr_expect_arr_eq(&r, &before, sizeof(r), "%s: #UD must change no register", c->what);
        }
        if (c->control == HC(EXTQ) && c->status == 0)
            cr_expect_eq(get_u64(f, GPA_OUT), 0, "capabilities written");
        fake_destroy(f);
    }
}

Test(hv_hypercall, no_hypercall_page_is_ud)
{
    struct fake_host *f = fake_create(NULL, 1);
    struct hv_call_regs r = regs64(HC(FLUSH_SPACE), GPA_IN, 0);
    cr_expect_eq(hv_hypercall(f->p, fake_vp(f, 0), &r), HV_CALL_UD);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    cr_expect_eq(hv_hypercall(f->p, fake_vp(f, 0), &r), HV_CALL_DONE);
    fake_destroy(f);
}

/* Only RAX (and RCX on continuation) may change in the 64-bit convention. */
Test(hv_hypercall, registers_preserved)
{
    struct fake_host *f = fake_create(NULL, 1);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    struct hv_call_regs r = regs64(HC(FLUSH_SPACE), GPA_IN, 0);
    for (unsigned i = 0; i < 16; i++)
        if (i != REG_RCX && i != REG_RDX && i != REG_R8)
            r.gpr[i] = 0x1111111111111111ull * i;
    struct hv_call_regs before = r;
    hv_hypercall(f->p, fake_vp(f, 0), &r);
    for (unsigned i = 0; i < 16; i++)
        if (i != REG_RAX)
            cr_expect_eq(r.gpr[i], before.gpr[i], "gpr %u", i);
    fake_destroy(f);
}

static void fill_list(struct fake_host *f, unsigned n)
{
    put_u64(f, GPA_IN, 0);
    put_u64(f, GPA_IN + 8, 0);
    put_u64(f, GPA_IN + 16, 0x3); /* VPs 0 and 1 */
    for (unsigned i = 0; i < n; i++)
        put_u64(f, GPA_IN + 24 + 8 * i, 0x7f0000000000ull + (uint64_t)i * 0x1000);
}

static struct fake_host *batched(unsigned vps)
{
    struct hv_config cfg;
    hv_config_default(&cfg);
    cfg.rep_batch = 64;
    return fake_create(&cfg, vps);
}

Test(hv_hypercall, rep_continuation_64)
{
    struct fake_host *f = batched(2);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    fill_list(f, 200);
    struct hv_call_regs r = regs64(HC(FLUSH_LIST) | HC_REP(200, 0), GPA_IN, 0);
    r.gpr[REG_RAX] = 0xAAAA;
    unsigned rounds = 0;
    enum hv_call_action a;
    while ((a = hv_hypercall(f->p, fake_vp(f, 0), &r)) == HV_CALL_CONTINUE) {
        rounds++;
        cr_assert_lt(rounds, 10);
        cr_expect_eq((r.gpr[REG_RCX] >> 48) & 0xFFF, rounds * 64, "new start index");
        cr_expect_eq(r.gpr[REG_RCX] & 0x0000FFFFFFFFFFFFull, HC(FLUSH_LIST) | HC_REP(200, 0),
                     "only the start index changes");
        cr_expect_eq(r.gpr[REG_RAX], 0xAAAA, "RAX untouched while continuing");
    }
    cr_expect_eq(a, HV_CALL_DONE);
    cr_expect_eq(rounds, 3);
    cr_expect_eq(STATUS(r.gpr[REG_RAX]), 0);
    cr_expect_eq(REPS(r.gpr[REG_RAX]), 200);
    /* Every page flushed exactly once on each target, in order. */
    unsigned seen[2] = {0, 0};
    for (unsigned i = 0; i < f->nfl; i++) {
        const struct fake_flush *x = &f->fl[i];
        cr_assert_lt(x->vp, 2);
        cr_expect(x->global);
        for (unsigned k = 0; k < x->n; k++)
            cr_expect_eq(x->pages[k], 0x7f0000000000ull + (uint64_t)(seen[x->vp] + k) * 0x1000);
        seen[x->vp] += x->n;
    }
    cr_expect_eq(seen[0], 200);
    cr_expect_eq(seen[1], 200);
    fake_destroy(f);
}

Test(hv_hypercall, rep_continuation_32)
{
    struct fake_host *f = batched(1);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    fill_list(f, 100);
    struct hv_call_regs r = make_regs(M32, HC(FLUSH_LIST) | HC_REP(100, 0), GPA_IN, 0);
    cr_expect_eq(hv_hypercall(f->p, fake_vp(f, 0), &r), HV_CALL_CONTINUE);
    cr_expect_eq(r.gpr[REG_RDX], (HC_REP(100, 64)) >> 32, "EDX carries the new start");
    cr_expect_eq(r.gpr[REG_RAX], FLUSH_LIST);
    cr_expect_eq(hv_hypercall(f->p, fake_vp(f, 0), &r), HV_CALL_DONE);
    cr_expect_eq(r.gpr[REG_RDX], 100u, "EDX = result 63:32: reps completed");
    cr_expect_eq(r.gpr[REG_RAX], 0);
    fake_destroy(f);
}

Test(hv_hypercall, rep_resume_from_start_index)
{
    struct fake_host *f = fake_create(NULL, 1);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    fill_list(f, 120);
    uint64_t rax = call_slow(f, 0, HC(FLUSH_LIST) | HC_REP(120, 100), GPA_IN, 0);
    cr_expect_eq(STATUS(rax), 0);
    cr_expect_eq(REPS(rax), 120);
    cr_assert_eq(f->nfl, 1);
    cr_expect_eq(f->fl[0].n, 20);
    cr_expect_eq(f->fl[0].pages[0], 0x7f0000000000ull + 100 * 0x1000);
    /* A failing rep call reports the elements done before it: here the start index. */
    put_u64(f, GPA_IN + 8, 1ull << 2);
    rax = call_slow(f, 0, HC(FLUSH_LIST) | HC_REP(120, 7), GPA_IN, 0);
    cr_expect_eq(STATUS(rax), HV_STATUS_INVALID_PARAMETER);
    cr_expect_eq(REPS(rax), 7);
    fake_destroy(f);
}

Test(hv_hypercall, rep_unbatched_finishes_in_one_exit)
{
    struct fake_host *f = fake_create(NULL, 1);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    fill_list(f, 509);
    uint64_t rax = call_slow(f, 0, HC(FLUSH_LIST) | HC_REP(509, 0), GPA_IN, 0);
    cr_expect_eq(STATUS(rax), 0);
    cr_expect_eq(REPS(rax), 509);
    cr_assert_eq(f->nfl, 1);
    cr_expect_eq(f->fl[0].n, 0, "509 pages: one whole-TLB flush");
    fake_destroy(f);
}

Test(hv_hypercall, trace_line)
{
    struct fake_host *f = fake_create(NULL, 1);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    fake_trace_on(f);
    put_u64(f, GPA_IN + 16, 1);
    call_slow(f, 0, HC(FLUSH_SPACE), GPA_IN, 0);
    cr_expect_str_eq(f->last_trace, "vp0 hypercall HvFlushVirtualAddressSpace (0x0002) control "
                                    "0x2 in 0x200000 out 0x0 -> HV_STATUS_SUCCESS reps 0");
    call_slow(f, 0, HC(0x1234), 0, 0);
    cr_expect_str_eq(f->last_trace, "vp0 hypercall unknown (0x1234) control 0x1234 in 0x0 out "
                                    "0x0 -> HV_STATUS_INVALID_HYPERCALL_CODE reps 0");
    cr_expect_str_eq(hv_call_name(0x15), "HvCallSendSyntheticClusterIpiEx");
    cr_expect_null(hv_call_name(0x1234));
    fake_destroy(f);
}
