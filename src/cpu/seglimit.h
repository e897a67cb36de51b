/* Segment limit and access-rights checks on data accesses outside 64-bit mode (SDM Vol 3 5.3):
 * the tagged-base scheme that keeps them off the fast path (see CAREFUL_SEG in vcpu.h). */
#ifndef HVEMU_CPU_SEGLIMIT_H
#define HVEMU_CPU_SEGLIMIT_H

#include "cpu/vcpu.h"

/* A segment that is not flat gets sbase[] = SEG_TAG | seg << SEG_TAG_SHIFT | 32-bit base. Bit
 * 62 with bit 63 clear makes every tagged address non-canonical, so it never matches a TLB tag
 * (those are page-aligned canonical addresses) and the access reaches the slow path. Bits 32-47
 * stay clear in sbase: ea + base carries at most into bit 32, which lin_mask drops. */
#define SEG_TAG (1ull << 62)
#define SEG_TAG_SHIFT 48
#define SEG_TAG_MASK (SEG_TAG | (0xfull << SEG_TAG_SHIFT))
/* lin_mask outside 64-bit mode: 32-bit linear addresses, tags kept. */
#define SEG_LIN_MASK32 (0xffffffffull | SEG_TAG_MASK)
/* The data segments (ES, CS, SS, DS, FS, GS) that can be tagged. */
#define SEG_DATA_COUNT 6

/* Called by the memory slow path for every data access while vp->careful has CAREFUL_SEG:
 * la may carry a segment tag; checks the access of len bytes against that segment's limit and
 * type (raising #GP or #SS through cpu_fault) and returns the plain linear address. An
 * untagged la is returned unchanged. */
gva_t seg_check_access(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len, bool write);

/* The linear address of a possibly tagged la without any check (INVLPG, CLFLUSH...). */
static inline gva_t seg_untag(const struct vcpu *vp, gva_t la)
{
    return vp->mode == MODE_64 ? la : (uint32_t)la;
}

/* Recompute sbase[seg] (and CAREFUL_SEG) after seg's cache or the mode changed. */
void seg_update_base(struct vcpu *vp, unsigned seg);
/* Recompute every sbase[], CAREFUL_SEG, and drop decode lookups a CS limit no longer allows;
 * for vcpu_update_mode, after mode and lin_mask. */
void seg_update_all(struct vcpu *vp);

/* The highest EIP the current CS allows to execute, or UINT64_MAX when nothing is limited
 * (64-bit mode, or a 4 GiB code segment). */
uint64_t seg_fetch_limit(const struct vcpu *vp);
/* After a near branch i set vp->rip: #GP(0) at the branch when the target is beyond the CS
 * limit (SDM Vol 2 JMP/Jcc/CALL/RET). For the block-end path of the dispatcher. */
void seg_check_branch(struct vcpu *vp, const struct insn *i);

#endif
