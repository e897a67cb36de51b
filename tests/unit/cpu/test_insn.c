/* Table-driven instruction tests: each case runs a small program to HLT and checks registers,
 * flags and memory (cases in insn_cases.c, generated from the assembly they show). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "harness.h"
#include "insn_cases.h"

static void run_case(const struct insn_case *c)
{
    struct th t;
    th_init(&t);
    if (c->mode == 64)
        th_mode64(&t);
    else if (c->mode == 32)
        th_mode32(&t);
    else
        th_mode16(&t);
    th_load(&t, TH_CODE, c->code, c->len);
    for (unsigned k = 0; k < c->nin; k++)
        cpu_set_gpr(t.vp, c->in[k].reg, c->in[k].val);
    for (unsigned k = 0; k < c->nmin; k++)
        th_wr(&t, c->min[k].gpa, c->min[k].val, c->min[k].size);
    enum cpu_stop st = th_run(&t, 10000);
    cr_assert_eq(st, CPU_STOP_HALT, "%s [%s]: stop %d at rip %#llx", c->name, c->src, st,
                 (unsigned long long)cpu_get_rip(t.vp));
    for (unsigned k = 0; k < c->nout; k++) {
        uint64_t v = cpu_get_gpr(t.vp, c->out[k].reg);
        cr_expect_eq(v, c->out[k].val, "%s [%s]: reg %u = %#llx, want %#llx", c->name, c->src,
                     c->out[k].reg, (unsigned long long)v, (unsigned long long)c->out[k].val);
    }
    uint64_t fl = cpu_get_rflags(t.vp);
    cr_expect_eq(fl & c->fmask, c->fval, "%s [%s]: rflags %#llx & %#x, want %#x", c->name, c->src,
                 (unsigned long long)fl, c->fmask, c->fval);
    for (unsigned k = 0; k < c->nmout; k++) {
        uint64_t v = th_rd(&t, c->mout[k].gpa, c->mout[k].size);
        cr_expect_eq(v, c->mout[k].val, "%s [%s]: mem %#llx = %#llx, want %#llx", c->name,
                     c->src, (unsigned long long)c->mout[k].gpa, (unsigned long long)v,
                     (unsigned long long)c->mout[k].val);
    }
    th_fini(&t);
}

Test(cpu_insn, table)
{
    for (unsigned k = 0; k < insn_case_count; k++)
        run_case(&insn_cases[k]);
}
