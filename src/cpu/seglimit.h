/* Segment limit and access-rights checks on data accesses outside 64-bit mode (SDM Vol 3 5.3):
 * the tagged-base scheme that keeps them off the fast path (see CAREFUL_SEG in vcpu.h). */
#ifndef HVEMU_CPU_SEGLIMIT_H
#define HVEMU_CPU_SEGLIMIT_H

#include "cpu/vcpu.h"

/* Called by the memory slow path for every data access while vp->careful has CAREFUL_SEG:
 * la may carry a segment tag; checks the access of len bytes against that segment's limit and
 * type (raising #GP or #SS through cpu_fault) and returns the plain linear address. An
 * untagged la is returned unchanged. */
gva_t seg_check_access(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len, bool write);

#endif
