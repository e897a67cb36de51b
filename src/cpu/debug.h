/* Debug facilities (SDM Vol 3 17): debug registers, instruction/data/I/O breakpoints, DR6. */
#ifndef HVEMU_CPU_DEBUG_H
#define HVEMU_CPU_DEBUG_H

#include "cpu/vcpu.h"

/* Called by the memory slow path for every data access while vp->careful has CAREFUL_DBG or
 * CAREFUL_AC (the TLB is bypassed then, so every access reaches it): la is the linear address
 * (segment limits already checked), len bytes, write or read. May raise #AC (cpu_fault) or
 * record a data-breakpoint hit for the trap after the instruction. Returns la. */
gva_t dbg_check_access(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len, bool write);

/* Called for every I/O port access (IN/OUT/INS/OUTS element) before it is made, after the
 * permission checks: records an I/O-breakpoint hit (CR4.DE, DR7 R/W = 10b). */
void dbg_io_access(struct vcpu *vp, const struct insn *i, uint16_t port, unsigned len);

#endif
