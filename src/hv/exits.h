/* VM-exit dispatch: one handler per VT-x exit reason, as in a textbook VT-x hypervisor. */
#ifndef HVEMU_EXITS_H
#define HVEMU_EXITS_H

#include "hv/machine.h"

enum exit_action machine_handle_exit(struct machine *m, struct vcpu *vp, struct vmexit *ex);

/* Per-VP hooks the board provides to the exit handlers. Return values for MSR hooks:
 * 0 handled, 1 not mine, -1 #GP. */
int board_msr_read(struct machine *m, unsigned vp, uint32_t index, uint64_t *value);
int board_msr_write(struct machine *m, unsigned vp, uint32_t index, uint64_t value);
/* CPUID: fills out[] from the CPU's table, then lets the hypervisor and the APIC adjust it. */
void board_cpuid(struct machine *m, struct vcpu *vp, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
enum exit_action board_vmcall(struct machine *m, struct vcpu *vp, struct vmexit *ex);
uint64_t board_tpr_read(struct machine *m, unsigned vp);
void board_tpr_write(struct machine *m, unsigned vp, uint64_t cr8);

#endif
