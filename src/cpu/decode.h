/* Decoding guest bytes (Zydis, once per block) into hvemu's instruction records. */
#ifndef HVEMU_CPU_DECODE_H
#define HVEMU_CPU_DECODE_H

#include "cpu/vcpu.h"

/* Decode up to max instructions starting at linear rip (physical gpa) into out[], which must
 * have room for max + 1 records; out[n] becomes the terminator. Returns n (>= 1). */
unsigned decode_block(struct vcpu *vp, gva_t rip, gpa_t gpa, struct insn *out, unsigned max);
/* Does instruction n-1 of a block at rip extend past the block's first page? */
bool decode_crossed(const struct insn *in, unsigned n, gva_t rip);
/* Make out[n] the terminator of an n-instruction block. */
void decode_terminate(struct insn *out, unsigned n);

#endif
