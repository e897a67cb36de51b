/* Exception and interrupt delivery (real, protected and long mode), descriptor loads and the
 * privilege transitions built on them. */
#ifndef HVEMU_CPU_INTR_H
#define HVEMU_CPU_INTR_H

#include "cpu/vcpu.h"

enum ev_kind { EVK_EXT, EVK_NMI, EVK_EXC, EVK_SOFT, EVK_SOFTEXC /* INT3/INTO */, EVK_ICEBP };

/* Deliver an event with vp->rip at the instruction it belongs to (faults: the faulting one;
 * interrupts: the next to run). ilen: length of INT n / INT3 / INTO / INT1, whose return
 * address is past them. Handles #DF and triple fault (vp->shutdown). */
void intr_deliver(struct vcpu *vp, unsigned vec, enum ev_kind kind, bool has_err, uint32_t err,
                  unsigned ilen);

/* Descriptor-table access. Returns 0, or a vector with *err. */
int desc_read(struct vcpu *vp, uint16_t sel, uint64_t d[2], uint32_t *err);
void desc_to_seg(const uint64_t d[2], uint16_t sel, struct seg *s);
/* Load a data/stack segment register with protected-mode checks; returns 0 or vector, *err. */
int seg_load(struct vcpu *vp, unsigned seg, uint16_t sel, uint32_t *err);
/* Set a segment register and the derived state (bases, mode, CPL for CS). */
void seg_commit(struct vcpu *vp, unsigned seg, const struct seg *s);
/* Real-mode / VM86 style load: base = sel << 4. */
void seg_load_real(struct vcpu *vp, unsigned seg, uint16_t sel);

#endif
