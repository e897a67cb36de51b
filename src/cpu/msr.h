/* The CPU's architectural MSRs (msr.c). */
#ifndef HVEMU_CPU_MSR_H
#define HVEMU_CPU_MSR_H

#include "cpu/vcpu.h"

enum { MSR_OK = 0, MSR_EXIT = 1, MSR_GP = -1 };

/* Read or write an MSR the CPU keeps: MSR_OK, MSR_GP, or MSR_EXIT when the MSR belongs to
 * someone else (APIC, hypervisor range, unknown) and must leave as an exit. */
int msr_read(struct vcpu *vp, uint32_t index, uint64_t *value);
int msr_write(struct vcpu *vp, uint32_t index, uint64_t value);

#endif
