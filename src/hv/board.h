/* The PC board: creates the platform devices of a machine, registers them on its buses and
 * wires their interrupts, clock and requests. Private to src/hv. */
#ifndef HVEMU_BOARD_H
#define HVEMU_BOARD_H

#include "hv/machine.h"

int board_create(struct machine *m, char *err, size_t errlen);
void board_destroy(struct machine *m);
/* Between slices: poll host input (serial), refresh interrupt lines. */
void board_poll(struct machine *m);
/* The cpu_env given to every VP. */
const struct cpu_env *board_cpu_env(struct machine *m);
/* The VP's TSC now reads virtual time + offset (the guest wrote IA32_TSC): TSC-deadline
 * timers compare against the same TSC. */
void board_tsc_offset_changed(struct machine *m, unsigned vp, int64_t offset);
/* A VP that is halted: does it have anything that wakes it (interrupt, NMI, INIT, SIPI)? */
bool board_vp_wakeable(struct machine *m, unsigned vp);

#endif
