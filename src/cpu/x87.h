/* x87 instruction execution (x87.c) on the FXSAVE image in struct vcpu. */
#ifndef HVEMU_CPU_X87_H
#define HVEMU_CPU_X87_H

#include "cpu/vcpu.h"

/* Execute an x87 escape (opcodes D8-DF): 0, an exception vector (#NM, #MF, #UD), or -1 when
 * i is not an x87 escape. */
int x87_exec(struct vcpu *vp, const struct insn *i);

#endif
