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

/* Helpers shared by event delivery, call gates and task switches (intr.c). */
/* Whether n bytes just below sp fit in stack segment ss (SDM Vol 3 5.3: expand-up and
 * expand-down limits, 16- or 32-bit by the B flag). */
bool stack_room(const struct seg *ss, uint64_t sp, unsigned n);
/* A push to a new or current stack during a privilege transfer, made at privilege ncpl
 * (supervisor below 3); returns 0 or the vector (#PF, or #GP for a non-canonical address). */
int stack_write(struct vcpu *vp, unsigned ncpl, gva_t la, uint64_t v, unsigned w, uint32_t *err);
/* The stack pointer and SS for privilege level dpl (ist: IA-32e interrupt stack table slot) from
 * the current TSS; #TS(TR selector) when the TSS limit does not cover them. */
int tss_stack(struct vcpu *vp, unsigned dpl, unsigned ist, uint64_t *sp, uint16_t *ss, uint32_t *err);
/* The checks on a new inner stack segment ssel for privilege ncpl (SDM CALL, INT n): #TS(ssel)
 * or #SS(ssel); fills *ss. */
int new_stack_seg(struct vcpu *vp, uint16_t ssel, unsigned ncpl, struct seg *ss, uint32_t *err);

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
