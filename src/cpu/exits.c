/* Exit callouts: the handler sees RIP at the exiting instruction and an exact icount. */
#include "cpu/exits.h"

#include "cpu/mem.h"

enum exit_action exit_call(struct vcpu *vp, const struct insn *i, struct vmexit *ex)
{
    if (!vp->env.exit)
        return EXIT_CONTINUE;
    uint64_t base = vp->rip;
    uint64_t rip = vp->gpr[GPR_BRIP] + i->nxt - i->len;
    if (vp->mode != MODE_64)
        rip = (uint32_t)rip;
    ex->rip = rip;
    ex->insn_len = i->len;
    vp->icount = vp->ic0 + i->idx;
    vp->rip = rip;
    enum exit_action a = vp->env.exit(vp->env.opaque, vp, ex);
    vp->rip = base;
    if (a == EXIT_FAULT)
        cpu_fault(vp, i, ex->vector, ex->has_error_code, ex->error_code);
    if (a == EXIT_STOP)
        vp->stop_exit = true;
    return a;
}
