/* Debug registers DR0-DR7 (SDM Vol 3 17.2): MOV DR, breakpoint matching, DR6 status, and the
 * per-access checks of careful mode (data breakpoints, alignment check). */
#include "cpu/debug.h"
#include "cpu/ops_inline.h"

static unsigned dr_index(struct vcpu *vp, const struct insn *i)
{
    unsigned n = i->cc;
    if (n == 4 || n == 5) {
        if (vp->cr4 & CR4_DE)
            cpu_fault_ud(vp, i);
        n += 2;
    }
    if (n > 7)
        cpu_fault_ud(vp, i);
    return n;
}

/* SDM Vol 3 17.2.4: with DR7.GD set, any MOV DR faults with #DB, DR6.BD set; the processor
 * clears GD on entry to the handler so that the handler can use the registers. */
static void general_detect(struct vcpu *vp, const struct insn *i)
{
    if (vp->dr[7] & DR7_GD) {
        vp->dr[6] |= DR6_BD;
        cpu_fault(vp, i, EXC_DB, false, 0);
    }
}

static unsigned rw_of(uint64_t dr7, unsigned n)
{
    return (unsigned)(dr7 >> (16 + 4 * n)) & 3;
}

/* LEN encodings 00, 01, 10, 11: 1, 2, 8, 4 bytes (SDM Vol 3 17.2.5). */
static uint64_t len_of(uint64_t dr7, unsigned n)
{
    static const uint8_t bytes[4] = {1, 2, 8, 4};
    return bytes[(dr7 >> (18 + 4 * n)) & 3];
}

/* B0-B3 of the breakpoints whose R/W value is in the set rw_set (bit per value) and whose
 * range (DRn aligned down to its length) shares a byte with [a, a + len). */
static unsigned match(const struct vcpu *vp, uint64_t a, uint64_t len, unsigned rw_set,
                      uint64_t mask)
{
    uint64_t dr7 = vp->dr[7];
    uint64_t last = a + len - 1;
    unsigned hits = 0;
    for (unsigned n = 0; n < 4; n++) {
        if (!((rw_set >> rw_of(dr7, n)) & 1))
            continue;
        uint64_t bl = len_of(dr7, n);
        uint64_t b = (vp->dr[n] & mask) & ~(bl - 1);
        if (a <= b + bl - 1 && b <= last)
            hits |= 1u << n;
    }
    return hits;
}

unsigned dbg_enabled(const struct vcpu *vp)
{
    unsigned en = 0;
    for (unsigned n = 0; n < 4; n++)
        if ((vp->dr[7] >> (2 * n)) & 3)
            en |= 1u << n;
    return en;
}

/* Linear addresses are 32 bits outside 64-bit mode (vcpu.lin_mask also keeps segment tags). */
static uint64_t lin32(const struct vcpu *vp)
{
    return vp->mode == MODE_64 ? ~0ull : 0xffffffffull;
}

unsigned dbg_insn_match(const struct vcpu *vp)
{
    uint64_t la = (vp->rip + (vp->mode == MODE_64 ? 0 : vp->sbase[SEG_CS])) & lin32(vp);
    return match(vp, la, 1, 1u << DR_RW_EXEC, lin32(vp));
}

void dbg_update(struct vcpu *vp)
{
    unsigned en = dbg_enabled(vp);
    bool data = false;
    for (unsigned n = 0; n < 4; n++) {
        unsigned rw = rw_of(vp->dr[7], n);
        if (((en >> n) & 1) && (rw == DR_RW_WRITE || rw == DR_RW_RDWR))
            data = true;
    }
    if (data)
        vp->careful |= CAREFUL_DBG;
    else
        vp->careful &= (uint8_t)~CAREFUL_DBG;
    vcpu_update_mmu_idx(vp);
}

int op_MOV_DR_W(struct vcpu *vp, const struct insn *i)
{
    sys_need_cpl0(vp, i);
    unsigned n = dr_index(vp, i);
    general_detect(vp, i);
    uint64_t v = vp->gpr[i->r1 >> 3];
    if (vp->mode != MODE_64)
        v = (uint32_t)v;
    if ((n == 6 || n == 7) && (v >> 32))
        cpu_fault_gp(vp, i, 0);
    if (n == 6)
        v = (v & 0x1e00f) | 0xffff0ff0;
    else if (n == 7)
        v = (v & 0xffff2bff) | 0x400;
    vp->dr[n] = v;
    /* RF is cleared as every instruction starts (SDM Vol 3 17.3.1.1); the fast path leaves a
     * stale one to here, where it would hide the first breakpoint. */
    vp->rflags &= ~(uint64_t)FL_RF;
    if (n == 7) {
        dbg_update(vp);
        /* The run loop goes one instruction at a time while breakpoints are enabled; a
         * one-instruction interrupt shadow stops block chaining so that it takes over before
         * the next instruction (interrupts wait one instruction longer, as they may). */
        if (v & DR7_ENABLES)
            vp->int_shadow = true;
    }
    return sys_next(vp, i);
}

int op_MOV_DR_R(struct vcpu *vp, const struct insn *i)
{
    sys_need_cpl0(vp, i);
    unsigned n = dr_index(vp, i);
    general_detect(vp, i);
    wreg(vp, i->r1, vp->mode == MODE_64 ? 8 : 4, vp->dr[n]);
    return sys_next(vp, i);
}

/* SDM Vol 3 6.15 (interrupt 17), Table 6-7: alignment an access of len bytes needs, as a mask.
 * 10 is an 80-bit x87 operand; 14/28 and 94/108 the 16- and 32-bit x87 environment and state
 * images. 16 bytes and more are SSE/AVX operands, whose aligned forms raise #GP themselves
 * and whose unaligned forms are not checked, and FXSAVE/XSAVE pieces, whose instruction
 * checks its own alignment (#GP). */
static const struct { uint8_t len, mask; } ac_rules[] = {
    {2, 1}, {4, 3}, {8, 7}, {10, 7}, {14, 1}, {28, 3}, {94, 1}, {108, 3},
};

gva_t dbg_check_access(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len, bool write)
{
    if (vp->careful & CAREFUL_AC) {
        for (unsigned k = 0; k < sizeof(ac_rules) / sizeof(ac_rules[0]); k++)
            if (ac_rules[k].len == len && (la & ac_rules[k].mask))
                cpu_fault(vp, i, EXC_AC, true, 0);
    }
    if ((vp->careful & CAREFUL_DBG) && len) {
        unsigned set = write ? (1u << DR_RW_WRITE) | (1u << DR_RW_RDWR) : 1u << DR_RW_RDWR;
        vp->dr[DBG_HITS] |= match(vp, la, len, set, lin32(vp));
    }
    return la;
}

void dbg_io_access(struct vcpu *vp, const struct insn *i, uint16_t port, unsigned len)
{
    (void)i;
    /* R/W = 10b means I/O only with CR4.DE; without it the encoding is undefined and is taken
     * as no breakpoint. Hits count only while the run loop steps (some breakpoint enabled). */
    if (!(vp->cr4 & CR4_DE) || !(vp->dr[7] & DR7_ENABLES) || len == 0)
        return;
    vp->dr[DBG_HITS] |= match(vp, port, len, 1u << DR_RW_IO, 0xffff);
}
