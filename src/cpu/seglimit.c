/* Segment limit and access-rights checks outside 64-bit mode (SDM Vol 3 5.3-5.4): the tagged
 * bases that route accesses through non-flat segments here, the checks themselves, and the CS
 * limit on instruction fetch and near branches. */
#include "cpu/seglimit.h"

#include "cpu/dcache.h"
#include "cpu/mem.h"
#include "cpu/ops.h"

#define ATTR_S (1u << 4)
#define ATTR_DB (1u << 14)
#define ATTR_UNUSABLE (1u << 16)

/* Protected-mode segment rules apply (not real-address or virtual-8086 mode, where only the
 * cached limit is checked and the type is not). */
static bool seg_pmode(const struct vcpu *vp)
{
    return (vp->cr0 & CR0_PE) && !(vp->rflags & FL_VM);
}

/* No access through seg can fail a segment check: a usable, expand-up, 4 GiB segment at base 0
 * that allows every data access (CS: reads, as a code segment cannot be written). */
static bool seg_flat(const struct vcpu *vp, unsigned seg)
{
    const struct seg *s = &vp->seg[seg];
    if ((uint32_t)s->base != 0 || s->limit != 0xffffffffu)
        return false;
    if (!seg_pmode(vp))
        return true;
    if ((s->attr & ATTR_UNUSABLE) || !(s->attr & ATTR_S))
        return false;
    unsigned type = s->attr & 0xf;
    if (seg == SEG_CS)
        return (type & 0xa) == 0xa; /* readable code */
    return (type & 0xe) == 2;       /* writable expand-up data */
}

static uint64_t base_of(const struct vcpu *vp, unsigned seg)
{
    const struct seg *s = &vp->seg[seg];
    if (vp->mode == MODE_64)
        return (seg == SEG_FS || seg == SEG_GS) ? s->base : 0;
    if (seg < SEG_DATA_COUNT && !seg_flat(vp, seg))
        return SEG_TAG | (uint64_t)seg << SEG_TAG_SHIFT | (uint32_t)s->base;
    return (uint32_t)s->base;
}

static void update_careful(struct vcpu *vp)
{
    uint64_t any = 0;
    for (unsigned s = 0; s < SEG_DATA_COUNT; s++)
        any |= vp->sbase[s];
    /* In 64-bit mode nothing is tagged, and an FS/GS base may have bit 62 set (any kernel
     * address does): it is not a tag. */
    if (vp->mode != MODE_64 && (any & SEG_TAG))
        vp->careful |= CAREFUL_SEG;
    else
        vp->careful &= (uint8_t)~CAREFUL_SEG;
}

void seg_update_base(struct vcpu *vp, unsigned seg)
{
    if (seg >= SEG_COUNT)
        return;
    vp->sbase[seg] = base_of(vp, seg);
    update_careful(vp);
}

uint64_t seg_fetch_limit(const struct vcpu *vp)
{
    if (vp->mode == MODE_64 || vp->seg[SEG_CS].limit == 0xffffffffu)
        return UINT64_MAX;
    return vp->seg[SEG_CS].limit;
}

void seg_update_all(struct vcpu *vp)
{
    for (unsigned s = 0; s < SEG_COUNT; s++)
        vp->sbase[s] = base_of(vp, s);
    vp->sbase[SEG_COUNT] = 0;
    update_careful(vp);
    /* The decode lookup holds only blocks that lie wholly within the CS limit they were found
     * under (dcache_get); with a limited CS that may no longer hold, so start it afresh. */
    if (seg_fetch_limit(vp) != UINT64_MAX)
        dcache_flush_lookup(vp);
}

/* SDM Vol 3 5.3 (limit, expand-down with the B flag choosing the upper bound) and 5.4 (types):
 * may len bytes at offset ea of segment seg be read or written? */
static bool access_ok(const struct vcpu *vp, unsigned seg, uint32_t ea, unsigned len, bool write)
{
    const struct seg *s = &vp->seg[seg];
    uint64_t last = (uint64_t)ea + (len ? len - 1 : 0);
    if (!seg_pmode(vp))
        return last <= s->limit;
    if (s->attr & ATTR_UNUSABLE)
        return false; /* a null selector was loaded */
    unsigned type = s->attr & 0xf;
    if (type & 8) {
        if (write || !(type & 2))
            return false; /* code is never writable; execute-only code is not readable */
        return last <= s->limit;
    }
    if (write && !(type & 2))
        return false;
    if (type & 4) {
        uint64_t upper = (s->attr & ATTR_DB) ? 0xffffffffu : 0xffffu;
        return ea > s->limit && last <= upper;
    }
    return last <= s->limit;
}

gva_t seg_check_access(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len, bool write)
{
    if (vp->mode == MODE_64 || !(la & SEG_TAG))
        return la; /* 64-bit addresses are never tagged (bit 62 of a kernel address is not) */
    unsigned seg = (unsigned)(la >> SEG_TAG_SHIFT) & 0xf;
    gva_t lin = (uint32_t)la;
    if (seg >= SEG_DATA_COUNT)
        return lin;
    uint32_t ea = (uint32_t)lin - (uint32_t)vp->seg[seg].base;
    if (!access_ok(vp, seg, ea, len, write))
        cpu_fault(vp, i, seg == SEG_SS ? EXC_SS : EXC_GP, true, 0);
    return lin;
}

void seg_check_branch(struct vcpu *vp, const struct insn *i)
{
    if (vp->rip <= seg_fetch_limit(vp))
        return;
    uint64_t m = amask_tab[i->asz];
    switch (i->op) {
    case OP_JMP_REL: case OP_JMP_RM: case OP_JCC: case OP_JCXZ:
        break;
    case OP_LOOP: /* the count is not decremented by a faulting LOOP */
        if (i->asz == 4)
            vp->gpr[REG_RCX] = (uint32_t)(vp->gpr[REG_RCX] + 1);
        else
            vp->gpr[REG_RCX] = (vp->gpr[REG_RCX] & ~m) | ((vp->gpr[REG_RCX] + 1) & m);
        break;
    case OP_CALL_REL: case OP_CALL_RM: /* SDM CALL: the limit is checked before the push */
        sp_set(vp, vp->gpr[REG_RSP] + i->opsz);
        break;
    case OP_RET:
        sp_set(vp, vp->gpr[REG_RSP] - i->opsz - (uint16_t)i->imm);
        break;
    default:
        return; /* far transfers and interrupts check their own targets */
    }
    cpu_fault(vp, i, EXC_GP, true, 0);
}
