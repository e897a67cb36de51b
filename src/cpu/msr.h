/* The CPU's architectural MSRs (msrs.def, msr.c): dispatch and the fixed values they report. */
#ifndef HVEMU_CPU_MSR_H
#define HVEMU_CPU_MSR_H

#include "cpu/vcpu.h"

enum { MSR_OK = 0, MSR_EXIT = 1, MSR_GP = -1 };

/* Read or write an MSR: MSR_OK, MSR_GP (reserved bits, read-only, or an index that is not
 * implemented), or MSR_EXIT when the MSR belongs to the LAPIC or the hypervisor (rows marked
 * FWD in msrs.def) and must leave as an exit. */
int msr_read(struct vcpu *vp, uint32_t index, uint64_t *value);
int msr_write(struct vcpu *vp, uint32_t index, uint64_t value);
/* The name of the msrs.def row covering index (e.g. "IA32_EFER"), for traces; NULL if none. */
const char *msr_name(uint32_t index);

/* Values of the read-only rows. */
#define MSR_FEATURE_CONTROL_VALUE 1ull /* lock bit; VMX/SMX disabled */
#define MSR_UCODE_REV 1ull
/* Maximum non-turbo ratio (15:8) and maximum efficiency ratio (47:40), in 100 MHz units:
 * the TSC runs at VCLOCK_TSC_HZ = 1 GHz. */
#define MSR_PLATFORM_INFO_VALUE (10ull << 8 | 10ull << 40)
/* VCNT = 8 variable ranges, FIX (fixed ranges), WC; no SMRR (SDM Vol 3 11.11.2.1). */
#define MSR_MTRRCAP_VALUE 0x508ull
/* A processor not affected by Meltdown, L1TF (no L1D flush needed on VM entry), MDS, iTLB
 * multihit or TAA, with enhanced IBRS: RDCL_NO | IBRS_ALL | SKIP_L1DFL_VMENTRY | MDS_NO |
 * PSCHANGE_MC_NO | TAA_NO. */
#define MSR_ARCH_CAPABILITIES_VALUE (1ull << 0 | 1ull << 1 | 1ull << 3 | 1ull << 5 | 1ull << 6 | 1ull << 8)
/* Machine-check architecture: MSR_MC_BANKS error-reporting banks, no MCG_CTL (CTL_P clear), no
 * extended state, CMCI, SER or LMCE. No hardware error is ever reported. */
#define MSR_MC_BANKS 2
#define MSR_MCG_CAP_VALUE ((uint64_t)MSR_MC_BANKS)
/* IA32_SPEC_CTRL: IBRS, STIBP, SSBD (CPUID.7.0:EDX[26, 27, 31]); IA32_PRED_CMD: IBPB. */
#define SPEC_CTRL_WRITABLE 0x7ull
#define PRED_CMD_IBPB 1ull

/* IA32_MISC_ENABLE: fast strings and automatic thermal control are writable; BTS and PEBS
 * unavailable (11, 12) read as 1 and must be written back unchanged; every other bit
 * (MONITOR FSM, limit CPUID maxval, XD disable, ...) is reserved here. */
#define MISC_ENABLE_FAST_STRING (1ull << 0)
#define MISC_ENABLE_WRITABLE (MISC_ENABLE_FAST_STRING | 1ull << 3)
/* BTS and PEBS unavailable (11, 12), MONITOR FSM enabled (18): hvemu cannot turn MONITOR off. */
#define MISC_ENABLE_FIXED (1ull << 11 | 1ull << 12 | 1ull << 18)

/* Physical-address bits of MTRR bases and masks: 12 up to MAXPHYADDR - 1. */
#define MTRR_ADDR_MASK (((1ull << MMU_MAXPHYADDR) - 1) & ~0xfffull)

#endif
