/* Private architectural state of one virtual processor (struct vcpu) and the decoded-instruction
 * record (struct insn) shared by the decoder, the dispatcher and the instruction files. */
#ifndef HVEMU_VCPU_H
#define HVEMU_VCPU_H

#include <setjmp.h>

#include "cpu/cpu.h"
#include "mmu/mmu.h"
#include "mmu/tlb.h"

/* gpr[] slots beyond the 16 architectural registers: a constant zero (absent base/index) and
 * the linear RIP of the running block (base of RIP-relative addressing). */
#define GPR_ZERO 16
#define GPR_BRIP 17
#define GPR_SLOTS 18

/* RFLAGS bits (SDM Vol 1 3.4.3). */
enum {
    FL_CF = 1u << 0, FL_PF = 1u << 2, FL_AF = 1u << 4, FL_ZF = 1u << 6, FL_SF = 1u << 7,
    FL_TF = 1u << 8, FL_IF = 1u << 9, FL_DF = 1u << 10, FL_OF = 1u << 11, FL_IOPL = 3u << 12,
    FL_NT = 1u << 14, FL_RF = 1u << 16, FL_VM = 1u << 17, FL_AC = 1u << 18, FL_VIF = 1u << 19,
    FL_VIP = 1u << 20, FL_ID = 1u << 21,
};
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Control-register and EFER bits used by the CPU. */
enum {
    CR0_PE = 1u << 0, CR0_MP = 1u << 1, CR0_EM = 1u << 2, CR0_TS = 1u << 3, CR0_ET = 1u << 4,
    CR0_NE = 1u << 5, CR0_WP = 1u << 16, CR0_AM = 1u << 18, CR0_NW = 1u << 29, CR0_CD = 1u << 30,
    CR0_PG = 1u << 31,
};
enum {
    CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3, CR4_PSE = 1u << 4,
    CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7, CR4_PCE = 1u << 8,
    CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10, CR4_UMIP = 1u << 11, CR4_LA57 = 1u << 12,
    CR4_FSGSBASE = 1u << 16, CR4_PCIDE = 1u << 17, CR4_OSXSAVE = 1u << 18, CR4_SMEP = 1u << 20,
    CR4_SMAP = 1u << 21, CR4_PKE = 1u << 22,
};
enum { EFER_SCE = 1u << 0, EFER_LME = 1u << 8, EFER_LMA = 1u << 10, EFER_NXE = 1u << 11 };

/* Exception vectors (SDM Vol 3 6.3.1). */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
    EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14,
    EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* vcpu.careful bits. CAREFUL_SEG: outside 64-bit mode some segment register is not flat, so
 * its sbase[] carries a tag that makes every access through it miss the TLB and reach
 * seg_check_access (seglimit.c). CAREFUL_DBG / CAREFUL_AC: enabled data breakpoints, or
 * alignment checking (CR0.AM, RFLAGS.AC, CPL 3): mmu_idx is TLB_BYPASS so that every access
 * takes the slow path and reaches dbg_check_access (debug.c). */
enum { CAREFUL_SEG = 1u << 0, CAREFUL_DBG = 1u << 1, CAREFUL_AC = 1u << 2 };

/* Decode modes: what changes how bytes decode (CS.L, CS.D). */
enum { MODE_16 = 0, MODE_32 = 1, MODE_64 = 2 };

/* Operand kinds for the generic operand list (used by the FPU/SIMD part and slow handlers). */
enum { OPK_NONE, OPK_REG, OPK_MEM, OPK_IMM };

/* insn.flags */
enum {
    IF_REP = 1u << 0,   /* F3 (REP/REPE) */
    IF_REPNE = 1u << 1, /* F2 */
    IF_LOCK = 1u << 2,
    IF_MEM = 1u << 3,   /* one operand is memory (EA recipe valid) */
    IF_ABS = 1u << 4,   /* moffs64: absolute address in imm2 */
    IF_VEX = 1u << 5,   /* VEX/EVEX/XOP encoded */
};

/* One decoded instruction. Register operands are byte offsets into vcpu.gpr (so AH..BH are
 * offsets 1, 9, 17, 25); base/index are gpr slot numbers (GPR_ZERO when absent). */
struct insn {
    uint16_t op;      /* handler index (ops.def) */
    uint8_t len;
    uint8_t idx;      /* position in the block */
    uint16_t nxt;     /* offset of the next instruction from the block start */
    uint8_t opsz;     /* operand size in bytes */
    uint8_t asz;      /* address size in bytes */
    uint8_t r1, r2, r3; /* GPR operands 0, 1, 2 by position (byte offsets into gpr) */
    uint8_t base, index, scale, seg;
    uint8_t cc;       /* condition code, or a sub-operation selector */
    uint8_t flags;    /* IF_* */
    uint16_t mnem;    /* ZydisMnemonic */
    int32_t disp;     /* for RIP-relative: displacement + nxt */
    uint64_t imm;
    uint64_t imm2;
    /* Full operand list, for handlers that interpret operands generically (FPU/SIMD, system). */
    struct { uint8_t kind, size; uint16_t reg; } ops[4];
    uint8_t nops;
    uint8_t vlen;     /* vector length in bytes (16/32) for VEX/EVEX, else 0 */
    uint8_t opc;      /* last opcode byte and ModRM (the x87 escape decode uses them) */
    uint8_t modrm;
};

struct block;
struct dcache;

/* Lazy flags kinds: LF_NONE means the arithmetic bits of vcpu.rflags are current. */
enum lf_kind {
    LF_NONE = 0,
    LF_ADD, LF_SUB, LF_ADC, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, LF_NEG,
    /* Shifts by a non-zero count: lf_a the operand, lf_b the count. IMUL: lf_cf the overflow. */
    LF_SHL, LF_SHR, LF_SAR, LF_MUL,
    /* ROL/ROR: they set only CF and OF (lf_cf, lf_of); the other flags are those of the record
     * before the first of a run of rotates, kept in lfp_* (so no rotate materialises flags). */
    LF_ROT,
    LF_KINDS
};

struct vcpu {
    uint64_t gpr[GPR_SLOTS];
    uint64_t rip;
    uint64_t rflags;

    /* Lazy flags: result and operands of the last flag-setting operation, size in bytes. */
    uint64_t lf_res, lf_a, lf_b;
    uint8_t lf_op, lf_sz;
    uint8_t lf_cf; /* CF carried through INC/DEC */
    uint8_t lf_of; /* LF_ROT: OF */
    uint8_t lfp_op, lfp_sz, lfp_cf; /* LF_ROT: the record whose SF ZF AF PF still hold */
    uint64_t lfp_res, lfp_a, lfp_b;

    uint8_t cpl;
    uint8_t mode;     /* MODE_* of the current CS */
    /* CAREFUL_* reasons why some data accesses need a per-access check in the memory slow
     * path (mem_careful); 0 on the fast, common path. */
    uint8_t careful;
    uint8_t mmu_idx;  /* TLB context: 0 supervisor, 1 supervisor+AC, 2 user */
    uint64_t lin_mask; /* linear-address mask: 32 bits outside long mode */
    uint64_t sbase[SEG_COUNT + 1]; /* segment bases as used for addressing ([SEG_COUNT] = 0) */

    struct seg seg[SEG_COUNT];
    struct dtr gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8, xcr0;
    uint64_t dr[8];
    uint64_t efer;

    /* Architectural MSRs kept by the CPU (msr.c). */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux, pat;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip, misc_enable;
    uint64_t mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
    int64_t tsc_offset;
    uint64_t apic_base;
    /* IA32_TSC_ADJUST, IA32_SPEC_CTRL, IA32_MCG_STATUS and the machine-check banks: MCi_CTL,
     * STATUS, ADDR, MISC of each of MSR_MC_BANKS banks (msr.c). */
    uint64_t tsc_adjust, spec_ctrl, mcg_status;
    uint64_t mc_bank[2 * 4];

    /* FPU/SSE state in the FXSAVE image layout (SDM Vol 1 10.5.1): x87 at 0, MXCSR at 24,
     * ST/MM at 32, XMM0-15 at 160. The upper halves of YMM0-15 follow. */
    _Alignas(64) uint8_t fxsave[512];
    uint8_t ymmh[16][16];

    /* Run state. */
    uint32_t events;        /* CPU_EV_* pending */
    uint8_t sipi_vector;
    bool halted;
    uint8_t mwait;          /* CPU_MWAIT_* while halted by MWAIT */
    bool monitor_armed;     /* MONITOR armed, no MWAIT yet */
    gva_t monitor_la;       /* its linear address (for traces and tests) */
    bool wait_sipi;
    bool int_shadow;        /* STI / MOV SS shadow: no interrupt before the next instruction */
    bool nmi_blocked;       /* from NMI delivery until IRET */
    bool stop_exit;         /* an exit handler asked to stop */
    bool shutdown;
    bool shutdown_reported; /* the TRIPLE_FAULT exit was made */

    uint64_t icount;        /* retired instructions */
    uint64_t ic0;           /* icount at the start of the running block */
    const struct insn *cur; /* the instruction a slow path is working for */
    struct block *cur_block;

    /* Exception in flight (raised with cpu_fault, delivered by the run loop). */
    jmp_buf *jb;
    uint8_t fault_vec;
    bool fault_has_err;
    uint32_t fault_err;
    uint8_t pending_exc;    /* injected by cpu_inject_exception, 0xff none */
    bool pending_has_err;
    uint32_t pending_err;

    uint64_t rng[2];        /* RDRAND/RDSEED generator (xorshift128+) */

    struct physmem *pm;
    struct cpu_env env;
    unsigned apic_id;
    struct tlb tlb;
    uint64_t tlb_generation; /* physmem generation the TLB was filled under */
    struct dcache *dc;
    struct code_hub *hub;
    struct vcpu *hub_next;
    struct cpu_stats stats;
};

/* state.c */
void vcpu_update_mode(struct vcpu *vp);   /* after CS, CR0, EFER changes */
void vcpu_update_mmu_idx(struct vcpu *vp);
uint64_t flags_get(struct vcpu *vp);       /* materialise lazy flags into rflags, return it */
void flags_set(struct vcpu *vp, uint64_t fl, uint64_t mask);
void paging_state_of(const struct vcpu *vp, struct paging_state *ps);

#endif
