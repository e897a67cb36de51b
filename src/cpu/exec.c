/* The dispatcher: threaded code over a block's records (computed goto under GCC/Clang, a
 * switch elsewhere or with HVEMU_NO_COMPUTED_GOTO), generated from ops.def; plus single-record
 * execution for exact budgets. */
#include "cpu/exec.h"
#include "cpu/ops_inline.h"
#include "cpu/seglimit.h"

#if defined(__GNUC__) && !defined(HVEMU_NO_COMPUTED_GOTO)
#define THREADED 1
#endif

int exec_one(struct vcpu *vp, const struct insn *i)
{
    switch (i->op) {
#define X(name, ends) case OP_##name: return op_##name(vp, i);
#include "cpu/ops.def"
#undef X
    default: return op_UD(vp, i);
    }
}

/* Run records from b's first until one ends the block; icount is exact afterwards. Blocks are
 * chained here, without returning to the run loop, when the next one is already cached. */
void exec_block(struct vcpu *vp, const struct block *b, uint64_t end)
{
    const struct insn *i;
    int r;
#if defined(THREADED)
    static const void *const labels[OP_COUNT] = {
#define X(name, ends) &&L_##name,
#include "cpu/ops.def"
#undef X
    };
next_block:
    i = b->insns;
    vp->ic0 = vp->icount;
    vp->gpr[GPR_BRIP] = vp->rip;
    goto *labels[i->op];
#define X(name, ends)                                                                           \
    L_##name:                                                                                   \
    r = op_##name(vp, i);                                                                       \
    if (unlikely(r))                                                                            \
        goto out;                                                                               \
    i++;                                                                                        \
    goto *labels[i->op];
#include "cpu/ops.def"
#undef X
#else
next_block:
    i = b->insns;
    vp->ic0 = vp->icount;
    vp->gpr[GPR_BRIP] = vp->rip;
    for (;; i++) {
        r = exec_one(vp, i);
        if (r)
            break;
    }
    goto out;
#endif
out:
    /* A near branch beyond a limited CS faults at the branch (seglimit.c). */
    if (unlikely(vp->careful & CAREFUL_SEG) && r == H_END)
        seg_check_branch(vp, i);
    vp->icount = vp->ic0 + i->idx + (r == H_END);
    if (likely(!exec_attention(vp, end))) {
        const struct block *nb = dcache_peek(vp);
        if (nb && nb->n <= end - vp->icount) {
            b = nb;
            goto next_block;
        }
    }
}

/* Run at most n records of b one at a time. */
void exec_steps(struct vcpu *vp, const struct block *b, uint64_t n)
{
    const struct insn *i = b->insns;
    vp->ic0 = vp->icount;
    vp->gpr[GPR_BRIP] = vp->rip;
    for (uint64_t k = 0; k < n; k++, i++) {
        int r = exec_one(vp, i);
        if (r) {
            if (unlikely(vp->careful & CAREFUL_SEG) && r == H_END)
                seg_check_branch(vp, i);
            vp->icount = vp->ic0 + i->idx + (r == H_END);
            return;
        }
        vp->icount = vp->ic0 + i->idx + 1;
    }
    vp->rip = vp->rip + i[-1].nxt;
    if (vp->mode != MODE_64)
        vp->rip = (uint32_t)vp->rip;
}
