/* XSAVE, XSAVEOPT, XSAVEC, XSAVES, XRSTOR and XRSTORS (standard and compacted forms) for the
 * state components this CPU has: x87 (0) and SSE (1), both in the 512-byte legacy region, then
 * the 64-byte XSAVE header (SDM Vol 1 13.4-13.12). No supervisor component exists, so IA32_XSS
 * is always 0 (msr.c) and XSAVES/XRSTORS work on XCR0's components only. The register image is
 * vcpu.fxsave (FXSAVE layout). */
#include <Zydis/Zydis.h>
#include <string.h>

#include "cpu/ops_inline.h"
#include "cpu/simd_ext.h"
#include "cpu/x87.h"

#define XS_SUPPORTED 3ull      /* x87 | SSE: CPUID.(EAX=0DH,ECX=0):EAX */
#define XS_HDR 512u            /* XSAVE header: XSTATE_BV, XCOMP_BV, reserved */
#define XS_SIZE 576u           /* legacy region + header: no extended components */
#define XCOMP_COMPACT (1ull << 63)
#define MXCSR_RESET 0x1f80u
#define MXCSR_MASK 0xffffu

/* x87 bytes of the legacy region: FCW..FDP (0-23) and ST0-ST7 (32-159); SSE: MXCSR and
 * MXCSR_MASK (24-31, saved with SSE) and XMM0-XMM15 (160-415). */
static bool x87_in_use(const struct vcpu *vp)
{
    static const uint8_t init[24] = {0x7f, 0x03};
    /* The upper halves of FIP/FDP (X87_FIP_HI) are left out: an x87 instruction records a
     * non-null FCS with them, so only an FXRSTOR64/XRSTOR64 image with FCS = FIP[31:0] = 0
     * could make them the sole non-initial bytes. */
    if (memcmp(vp->fxsave, init, sizeof(init)) != 0)
        return true;
    for (unsigned k = 32; k < 160; k++)
        if (vp->fxsave[k])
            return true;
    return false;
}

/* SDM 13.6: SSE state is initial when the XMM registers are 0 and MXCSR is 1F80H (counting
 * MXCSR keeps XSAVEC from dropping a changed MXCSR). */
static bool sse_in_use(const struct vcpu *vp)
{
    if (load_sz(vp->fxsave + 24, 4) != MXCSR_RESET)
        return true;
    for (unsigned k = 160; k < 416; k++)
        if (vp->fxsave[k])
            return true;
    return false;
}

static uint64_t xinuse(const struct vcpu *vp)
{
    return (x87_in_use(vp) ? 1u : 0u) | (sse_in_use(vp) ? 2u : 0u);
}

/* XSAVE64, XRSTOR64, ...: the 64-bit FIP/FDP layout of the legacy region. */
static bool rex_w(const struct insn *i)
{
    switch (i->mnem) {
    case ZYDIS_MNEMONIC_XSAVE64: case ZYDIS_MNEMONIC_XSAVEOPT64: case ZYDIS_MNEMONIC_XSAVEC64:
    case ZYDIS_MNEMONIC_XSAVES64: case ZYDIS_MNEMONIC_XRSTOR64: case ZYDIS_MNEMONIC_XRSTORS64:
        return true;
    default: return false;
    }
}

static void init_x87(struct vcpu *vp)
{
    memset(vp->fxsave, 0, 24);
    memset(vp->fxsave + X87_FIP_HI, 0, 8);
    memset(vp->fxsave + 32, 0, 128);
    store_sz(vp->fxsave, 2, 0x037f);
}

enum xs_kind { XK_SAVE, XK_SAVEOPT, XK_SAVEC, XK_SAVES, XK_RSTOR, XK_RSTORS };

static void xsave(struct vcpu *vp, const struct insn *i, gva_t la, uint64_t rfbm, enum xs_kind k)
{
    mem_probe_write(vp, i, la, XS_SIZE);
    uint64_t inuse = xinuse(vp);
    /* XSAVE saves every requested component; XSAVEOPT, XSAVEC and XSAVES skip those in
     * their initial configuration (SDM 13.9-13.11). XSAVES writes the compacted form. */
    uint64_t save = k == XK_SAVE ? rfbm : rfbm & inuse;
    bool compact = k == XK_SAVEC || k == XK_SAVES;
    if (save & 1) {
        uint8_t x[24];
        x87_legacy_save(vp, x, rex_w(i));
        mem_write_buf(vp, i, la, x, 24);
        mem_write_buf(vp, i, la + 32, vp->fxsave + 32, 128);
    }
    /* MXCSR goes with SSE: for XSAVE/XSAVEOPT whenever RFBM[1] (SDM 13.7), for XSAVEC
     * when SSE is saved. */
    if (compact ? (save & 2) : (rfbm & 2)) {
        uint8_t m[8];
        memcpy(m, vp->fxsave + 24, 4);
        store_sz(m + 4, 4, MXCSR_MASK);
        mem_write_buf(vp, i, la + 24, m, 8);
    }
    if (save & 2)
        mem_write_buf(vp, i, la + 160, vp->fxsave + 160, 256);
    if (compact) {
        mem_wr(vp, i, la + XS_HDR, 8, rfbm & inuse);
        mem_wr(vp, i, la + XS_HDR + 8, 8, XCOMP_COMPACT | rfbm);
    } else {
        /* Only the requested bits of XSTATE_BV change. */
        uint64_t bv = mem_rd(vp, i, la + XS_HDR, 8);
        mem_wr(vp, i, la + XS_HDR, 8, (bv & ~rfbm) | (rfbm & inuse));
    }
}

static void xrstor(struct vcpu *vp, const struct insn *i, gva_t la, uint64_t rfbm, bool supervisor)
{
    uint8_t img[XS_SIZE];
    mem_read_buf(vp, i, la, img, XS_SIZE);
    uint64_t bv = load_sz(img + XS_HDR, 8), comp = load_sz(img + XS_HDR + 8, 8);
    bool compact = comp & XCOMP_COMPACT;
    /* XRSTORS takes only the compacted form (SDM 13.12). */
    if (supervisor && !compact)
        cpu_fault_gp(vp, i, 0);
    /* SDM 13.8: header checks, then MXCSR's reserved bits, all before any state changes. */
    if (compact) {
        uint64_t cbv = comp & ~XCOMP_COMPACT;
        if ((cbv & ~vp->xcr0) || (bv & ~cbv))
            cpu_fault_gp(vp, i, 0);
        for (unsigned k = 16; k < 64; k++)
            if (img[XS_HDR + k])
                cpu_fault_gp(vp, i, 0);
    } else {
        if (bv & ~vp->xcr0)
            cpu_fault_gp(vp, i, 0);
        for (unsigned k = 8; k < 24; k++)
            if (img[XS_HDR + k])
                cpu_fault_gp(vp, i, 0);
    }
    /* Standard form loads MXCSR whenever RFBM[1]; compacted form only with XSTATE_BV[1],
     * else it takes the reset value (SDM 13.8.1, 13.8.2). */
    bool mx_load = (rfbm & 2) && (!compact || (bv & 2));
    uint32_t mx = (uint32_t)load_sz(img + 24, 4);
    if (mx_load && (mx & ~MXCSR_MASK))
        cpu_fault_gp(vp, i, 0);
    if (rfbm & 1) {
        if (bv & 1) {
            x87_legacy_load(vp, img, rex_w(i));
            memcpy(vp->fxsave + 32, img + 32, 128);
        } else {
            init_x87(vp);
        }
    }
    if (rfbm & 2) {
        if (bv & 2)
            memcpy(vp->fxsave + 160, img + 160, 256);
        else
            memset(vp->fxsave + 160, 0, 256);
        store_sz(vp->fxsave + 24, 4, mx_load ? mx : MXCSR_RESET);
    }
}

int xsave_exec(struct vcpu *vp, const struct insn *i)
{
    enum xs_kind k;
    switch (i->mnem) {
    case ZYDIS_MNEMONIC_XSAVE: case ZYDIS_MNEMONIC_XSAVE64: k = XK_SAVE; break;
    case ZYDIS_MNEMONIC_XSAVEOPT: case ZYDIS_MNEMONIC_XSAVEOPT64: k = XK_SAVEOPT; break;
    case ZYDIS_MNEMONIC_XSAVEC: case ZYDIS_MNEMONIC_XSAVEC64: k = XK_SAVEC; break;
    case ZYDIS_MNEMONIC_XSAVES: case ZYDIS_MNEMONIC_XSAVES64: k = XK_SAVES; break;
    case ZYDIS_MNEMONIC_XRSTOR: case ZYDIS_MNEMONIC_XRSTOR64: k = XK_RSTOR; break;
    case ZYDIS_MNEMONIC_XRSTORS: case ZYDIS_MNEMONIC_XRSTORS64: k = XK_RSTORS; break;
    default: return -1;
    }
    /* SDM Vol 2 XSAVE/XSAVES/XRSTOR/XRSTORS exceptions: #UD without CR4.OSXSAVE or with
     * LOCK, then #NM for CR0.TS, then #GP for a memory operand not 64-byte aligned. */
    if (!(vp->cr4 & CR4_OSXSAVE) || (i->flags & IF_LOCK) || !(i->flags & IF_MEM))
        return EXC_UD;
    /* XSAVES/XRSTORS: #GP(0) at CPL > 0 comes after #NM and before the alignment check. */
    bool supervisor = k == XK_SAVES || k == XK_RSTORS;
    if (vp->cr0 & CR0_TS)
        return EXC_NM;
    if (supervisor && vp->cpl != 0)
        cpu_fault_gp(vp, i, 0);
    gva_t la = lin_of(vp, i);
    if (la & 63)
        cpu_fault_gp(vp, i, 0);
    /* RFBM is XCR0 (| IA32_XSS for XSAVES/XRSTORS, always 0 here) AND EDX:EAX. */
    uint64_t rfbm = vp->xcr0 & XS_SUPPORTED & ((vp->gpr[2] << 32) | (uint32_t)vp->gpr[0]);
    if (k == XK_RSTOR || k == XK_RSTORS)
        xrstor(vp, i, la, rfbm, supervisor);
    else
        xsave(vp, i, la, rfbm, k);
    return 0;
}

int op_XGETBV(struct vcpu *vp, const struct insn *i)
{
    if (!(vp->cr4 & CR4_OSXSAVE))
        cpu_fault_ud(vp, i);
    /* ECX=0: XCR0. ECX=1: XCR0 AND XINUSE, only while CPUID.(EAX=0DH,ECX=1):EAX[2] says
     * so (SDM Vol 2 XGETBV); the bit is read from the CPU's table so both stay in step.
     * Anything else #GP(0). */
    uint32_t ecx = (uint32_t)vp->gpr[REG_RCX];
    uint64_t v = vp->xcr0;
    if (ecx == 1) {
        uint32_t leaf[4];
        cpu_cpuid_default(vp, 0xd, 1, leaf);
        if (!(leaf[0] & 4))
            cpu_fault_gp(vp, i, 0);
        v &= xinuse(vp);
    } else if (ecx != 0) {
        cpu_fault_gp(vp, i, 0);
    }
    vp->gpr[REG_RAX] = (uint32_t)v;
    vp->gpr[REG_RDX] = v >> 32;
    return H_NEXT;
}

int op_XSETBV(struct vcpu *vp, const struct insn *i)
{
    if (!(vp->cr4 & CR4_OSXSAVE))
        cpu_fault_ud(vp, i);
    sys_need_cpl0(vp, i);
    uint64_t v = (vp->gpr[REG_RDX] << 32) | (uint32_t)vp->gpr[REG_RAX];
    /* x87 must stay on (SDM Vol 1 13.3); bits CPUID.0xD:EAX does not list (only x87 and
     * SSE are implemented) are reserved. */
    if ((uint32_t)vp->gpr[REG_RCX] != 0 || !(v & 1) || (v & ~3ull))
        cpu_fault_gp(vp, i, 0);
    vp->xcr0 = v;
    return sys_next(vp, i);
}

