/* Block execution entry points used by the run loop. */
#ifndef HVEMU_CPU_EXEC_H
#define HVEMU_CPU_EXEC_H

#include "cpu/dcache.h"

/* Anything the run loop must look at before the next block (events, halts, stops, shadows,
 * single-step, injected exceptions, the budget, a changed physical map). */
static inline bool exec_attention(const struct vcpu *vp, uint64_t end)
{
    return vp->events | vp->shutdown | vp->halted | vp->stop_exit | vp->int_shadow |
           vp->wait_sipi | (vp->pending_exc != 0xff) | (vp->icount >= end) |
           (vp->rflags & (FL_TF | FL_RF)) | (vp->dc->generation != vp->pm->generation);
}

int exec_one(struct vcpu *vp, const struct insn *i);
/* Run b and then, while nothing needs attention and the decode cache hits, the blocks that
 * follow it, each whole (b->n <= end - icount). */
void exec_block(struct vcpu *vp, const struct block *b, uint64_t end);
void exec_steps(struct vcpu *vp, const struct block *b, uint64_t n);

#endif
