/* Native executor for differential tests: runs instruction bytes on the host CPU between a
 * generated prologue/epilogue that load and store every GPR and RFLAGS, catching faults. */
#ifndef HVEMU_TEST_NATIVE_EXEC_H
#define HVEMU_TEST_NATIVE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Layout is fixed: the trampoline pops rflags then gpr[0..15] (RSP slot loaded last), and
 * moves xmm[0..15] (low quadword first) with MOVDQU. MXCSR stays the host's (0x1F80). */
struct native_regs {
    uint64_t rflags;
    uint64_t gpr[16];
    uint64_t xmm[16][2];
};

/* Host CPU features that gate instruction forms (CPUID bits). */
enum native_feature {
    NF_NONE, NF_POPCNT, NF_LZCNT, NF_BMI1, NF_BMI2, NF_ADX, NF_MOVBE, NF_SSE42, NF_LAHF64,
    NF_SSSE3, NF_SSE41, NF_COUNT
};

struct native_exec;

/* True on x86-64 Linux hosts, where native execution is possible. */
bool native_exec_supported(void);
bool native_has_feature(enum native_feature f);
const char *native_feature_name(enum native_feature f);

/* Allocates the code/state pages and a data buffer of data_size bytes, preferably at
 * want_data_va (MAP_FIXED_NOREPLACE). NULL if the host cannot do it. */
struct native_exec *native_exec_create(uint64_t want_data_va, size_t data_size);
void native_exec_destroy(struct native_exec *nx);
uint8_t *native_exec_data(const struct native_exec *nx);
uint64_t native_exec_insn_va(const struct native_exec *nx); /* where the instruction runs */

/* Runs len bytes once with *regs as input; *regs receives the output. Returns -1 if the
 * instruction completed, else the exception vector (0 #DE, 6 #UD, 13 #GP, 14 #PF, ...). */
int native_exec_run(struct native_exec *nx, const uint8_t *insn, size_t len, struct native_regs *regs);

/* As native_exec_run, with the instruction placed split bytes before a page boundary of the
 * code (so instructions longer than split straddle two pages); it runs at
 * native_exec_insn_va_split(nx, split). split is 1..48. */
uint64_t native_exec_insn_va_split(const struct native_exec *nx, unsigned split);
int native_exec_run_split(struct native_exec *nx, const uint8_t *insn, size_t len, unsigned split,
                          struct native_regs *regs);

/* The faulting address (siginfo si_addr) of the last run that ended in #PF. */
uint64_t native_exec_fault_addr(const struct native_exec *nx);

/* Compatibility mode (32-bit code segment of the host OS): possible when the pages lie below
 * 4 GiB. The instruction runs at native_exec_insn_va32(); only EAX..EDI and the flags are
 * meaningful afterwards (the SDM leaves upper halves undefined across the mode switch). */
bool native_exec_compat_ok(const struct native_exec *nx);
uint64_t native_exec_insn_va32(const struct native_exec *nx);
int native_exec_run32(struct native_exec *nx, const uint8_t *insn, size_t len, struct native_regs *regs);

#endif
