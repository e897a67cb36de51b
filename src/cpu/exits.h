/* Calling out of the CPU through cpu_env.exit with exact RIP and instruction count. */
#ifndef HVEMU_CPU_EXITS_H
#define HVEMU_CPU_EXITS_H

#include "cpu/vcpu.h"

/* Fill ex->rip/insn_len from i and call the exit handler. EXIT_FAULT raises the exception
 * (does not return); EXIT_STOP sets vp->stop_exit. Without a handler, returns EXIT_CONTINUE
 * and leaves ex as the caller prepared it (callers put defaults in ex first). */
enum exit_action exit_call(struct vcpu *vp, const struct insn *i, struct vmexit *ex);

#endif
