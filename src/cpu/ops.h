/* The op enum generated from ops.def, and the out-of-line handlers' declarations. */
#ifndef HVEMU_CPU_OPS_H
#define HVEMU_CPU_OPS_H

#include "cpu/vcpu.h"

enum op {
#define X(name, ends) OP_##name,
#include "cpu/ops.def"
#undef X
    OP_COUNT
};

extern const uint8_t op_ends_block[OP_COUNT];

/* Handler results: continue with the next record, or leave the block with vp->rip set (the
 * instruction retired), or leave without retiring it (vp->rip at the instruction). */
enum { H_NEXT = 0, H_END = 1, H_NORETIRE = 2 };

/* Out-of-line handlers (system instructions, strings and rare forms). */
#define OOL(name) int op_##name(struct vcpu *vp, const struct insn *i);
OOL(FPU) OOL(UD)
OOL(PUSHA) OOL(POPA) OOL(POPF) OOL(ENTER) OOL(PUSH_SEG) OOL(POP_SEG) OOL(MOV_MOFFS) OOL(XLAT)
OOL(BOUND) OOL(MUL1) OOL(DIV) OOL(AAA) OOL(AAS) OOL(AAM) OOL(AAD) OOL(DAA) OOL(DAS) OOL(SHLD)
OOL(SHRD) OOL(BT) OOL(BSF) OOL(BSR) OOL(TZCNT) OOL(LZCNT) OOL(POPCNT)
OOL(ANDN) OOL(BEXTR) OOL(BLSI) OOL(BLSMSK) OOL(BLSR) OOL(BZHI) OOL(MULX) OOL(PDEP) OOL(PEXT)
OOL(RORX) OOL(SARX) OOL(SHLX) OOL(SHRX) OOL(ADCX) OOL(ADOX)
OOL(XADD) OOL(CMPXCHG) OOL(CMPXCHG8B) OOL(CRC32) OOL(MOVBE) OOL(IMUL3) OOL(IMUL2)
OOL(JMP_FAR) OOL(CALL_FAR) OOL(RET_FAR) OOL(INT) OOL(INTO) OOL(IRET)
OOL(MOVS) OOL(CMPS) OOL(SCAS) OOL(LODS) OOL(STOS) OOL(INS) OOL(OUTS)
OOL(CPUID) OOL(RDTSC) OOL(RDTSCP) OOL(RDRAND) OOL(PAUSE) OOL(HLT) OOL(CLI) OOL(STI)
OOL(LGDT) OOL(LIDT) OOL(SGDT) OOL(SIDT) OOL(LLDT) OOL(SLDT) OOL(LTR) OOL(STR)
OOL(LMSW) OOL(SMSW) OOL(MOV_CR_W) OOL(MOV_CR_R) OOL(MOV_DR_W) OOL(MOV_DR_R)
OOL(MOV_SEG_W) OOL(MOV_SEG_R) OOL(LSEG) OOL(RDMSR) OOL(WRMSR) OOL(IN) OOL(OUT)
OOL(SYSCALL) OOL(SYSRET) OOL(SYSENTER) OOL(SYSEXIT) OOL(SWAPGS) OOL(RDFSGS) OOL(WRFSGS)
OOL(INVLPG) OOL(VMCALL) OOL(CLTS) OOL(XGETBV) OOL(XSETBV) OOL(RDPID) OOL(WBINVD)
OOL(CLAC) OOL(STAC) OOL(LAR) OOL(LSL) OOL(VERR) OOL(VERW) OOL(ARPL) OOL(RDPMC) OOL(MONITOR) OOL(MWAIT) OOL(INVPCID)
#undef OOL

/* The FPU/SIMD part's entry point (src/cpu/fpu/): execute one x87/MMX/SSE/AVX instruction
 * described by i (mnem, ops[], EA recipe, imm). Returns 0, or an exception vector to raise
 * (#UD, #NM, #MF, #XM; with an error code never). The FPU part defines it in src/cpu/fpu/
 * and adds the header cpu/fpu/fpu_exec.h; until that header exists, src/cpu/fpu_hook.c
 * supplies a default that raises #UD. Memory goes through cpu/mem.h (lin_of, mem_rd/mem_wr,
 * mem_read_buf/mem_write_buf, which raise #PF/#GP themselves); XMM state is vcpu.fxsave. */
int fpu_exec(struct vcpu *vp, const struct insn *i);

#endif
