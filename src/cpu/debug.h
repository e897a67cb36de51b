/* Debug facilities (SDM Vol 3 17): debug registers, instruction/data/I/O breakpoints, DR6,
 * single step, alignment check. */
#ifndef HVEMU_CPU_DEBUG_H
#define HVEMU_CPU_DEBUG_H

#include "cpu/vcpu.h"

/* DR6 status bits (SDM Vol 3 17.2.3). */
enum { DR6_B0_3 = 0xf, DR6_BD = 1u << 13, DR6_BS = 1u << 14, DR6_BT = 1u << 15 };
/* DR7: L0/G0..L3/G3 in bits 0-7, GD in bit 13, R/W and LEN per breakpoint from bit 16. */
enum { DR7_ENABLES = 0xff, DR7_GD = 1u << 13 };
/* DR7 R/W field values. */
enum { DR_RW_EXEC = 0, DR_RW_WRITE = 1, DR_RW_IO = 2, DR_RW_RDWR = 3 };

/* DR4 and DR5 alias DR6 and DR7 (or raise #UD), so their slots in vcpu.dr[] are free and hold
 * the debug unit's private run state (reset clears them with the rest):
 * DBG_HITS  B0-B3 of the data/I/O breakpoint conditions met by the current instruction;
 * DBG_HELD  DR6 bits of a #DB trap that a MOV SS / POP SS held back until after the next
 *           instruction (SDM Vol 3 6.8.3), plus DBG_HELD_SHADOW while that shadow lasts. */
#define DBG_HITS 4
#define DBG_HELD 5
#define DBG_HELD_SHADOW (1ull << 63)

/* Called by the memory slow path for every data access while vp->careful has CAREFUL_DBG or
 * CAREFUL_AC (the TLB is bypassed then, so every access reaches it): la is the linear address
 * (segment limits already checked), len bytes, write or read. May raise #AC (cpu_fault) or
 * record a data-breakpoint hit for the trap after the instruction. Returns la. */
gva_t dbg_check_access(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len, bool write);

/* Called for every I/O port access (IN/OUT/INS/OUTS element) before it is made, after the
 * permission checks: records an I/O-breakpoint hit (CR4.DE, DR7 R/W = 10b). */
void dbg_io_access(struct vcpu *vp, const struct insn *i, uint16_t port, unsigned len);

/* Recompute CAREFUL_DBG from DR7 (after DR7 changes, at reset). */
void dbg_update(struct vcpu *vp);

/* True while the run loop must go one instruction at a time for the debug unit: any
 * breakpoint enabled in DR7, a single step, RF to clear, or a #DB held by MOV SS. */
static inline bool dbg_stepping(const struct vcpu *vp)
{
    return (vp->dr[7] & DR7_ENABLES) | (vp->rflags & (FL_TF | FL_RF)) | vp->dr[DBG_HELD];
}

/* B0-B3 of the instruction breakpoints (R/W = 00) whose address is the linear address of the
 * instruction at vp->rip, enabled or not. */
unsigned dbg_insn_match(const struct vcpu *vp);
/* B0-B3 of the breakpoints DR7 enables. */
unsigned dbg_enabled(const struct vcpu *vp);

#endif
