/* Block execution entry points used by the run loop. */
#ifndef HVEMU_CPU_EXEC_H
#define HVEMU_CPU_EXEC_H

#include "cpu/dcache.h"

int exec_one(struct vcpu *vp, const struct insn *i);
void exec_block(struct vcpu *vp, const struct block *b);
void exec_steps(struct vcpu *vp, const struct block *b, uint64_t n);

#endif
