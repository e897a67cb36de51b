/* Zydis -> struct insn: the mnemonic table picks a handler family, the operand pattern picks
 * the form (register, memory, immediate), and block boundaries are decided here. */
#include <Zydis/Zydis.h>
#include <string.h>

#include "cpu/decode.h"
#include "cpu/mem.h"
#include "cpu/ops.h"

const uint8_t op_ends_block[OP_COUNT] = {
#define X(name, ends) ends,
#include "cpu/ops.def"
#undef X
};

enum form {
    FM_NONE,
    FM_OP,   /* fixed op, cc from the table */
    FM_ALU,  /* op is the _RR member of an RR/RI/RM/MR/MI family */
};

struct mmap_ent {
    uint8_t form;
    uint16_t op;
    uint8_t cc;
};

#define M(mn, f, o, c) [ZYDIS_MNEMONIC_##mn] = {f, OP_##o, c}
#define ALU(mn) M(mn, FM_ALU, mn##_RR, 0)
#define OP(mn, o, c) M(mn, FM_OP, o, c)
static const struct mmap_ent mtab[ZYDIS_MNEMONIC_MAX_VALUE + 1] = {
    ALU(ADD), ALU(OR), ALU(ADC), ALU(SBB), ALU(AND), ALU(SUB), ALU(XOR), ALU(CMP), ALU(TEST),
    M(MOV, FM_ALU, MOV_RR, 0), M(MOVNTI, FM_ALU, MOV_RR, 0),
    OP(NOP, NOP, 0), OP(ENDBR64, NOP, 0), OP(ENDBR32, NOP, 0), OP(LFENCE, NOP, 0),
    OP(SFENCE, NOP, 0), OP(MFENCE, NOP, 0), OP(CLFLUSH, NOP, 0), OP(CLFLUSHOPT, NOP, 0),
    OP(CLWB, NOP, 0), OP(PREFETCH, NOP, 0), OP(PREFETCHNTA, NOP, 0), OP(PREFETCHT0, NOP, 0),
    OP(PREFETCHT1, NOP, 0), OP(PREFETCHT2, NOP, 0), OP(PREFETCHW, NOP, 0),
    OP(MOVZX, MOVZX, 0), OP(MOVSX, MOVSX, 0), OP(MOVSXD, MOVSX, 0), OP(LEA, LEA, 0),
    OP(XCHG, XCHG, 0), OP(BSWAP, BSWAP, 0), OP(MOVBE, MOVBE, 0), OP(XLAT, XLAT, 0),
    OP(CBW, CBW, 0), OP(CWDE, CBW, 0), OP(CDQE, CBW, 0), OP(CWD, CWD, 0), OP(CDQ, CWD, 0),
    OP(CQO, CWD, 0), OP(LAHF, LAHF, 0), OP(SAHF, SAHF, 0),
    OP(PUSHA, PUSHA, 0), OP(PUSHAD, PUSHA, 0), OP(POPA, POPA, 0), OP(POPAD, POPA, 0),
    OP(PUSHF, PUSHF, 0), OP(PUSHFD, PUSHF, 0), OP(PUSHFQ, PUSHF, 0), OP(POPF, POPF, 0),
    OP(POPFD, POPF, 0), OP(POPFQ, POPF, 0), OP(ENTER, ENTER, 0), OP(LEAVE, LEAVE, 0),
    OP(NOT, UNARY, 0), OP(NEG, UNARY, 1), OP(INC, UNARY, 2), OP(DEC, UNARY, 3),
    OP(MUL, MUL1, 0), OP(DIV, DIV, 0), OP(IDIV, DIV, 1),
    OP(BOUND, BOUND, 0), OP(AAA, AAA, 0), OP(AAS, AAS, 0), OP(AAM, AAM, 0), OP(AAD, AAD, 0), OP(DAA, DAA, 0),
    OP(DAS, DAS, 0),
    OP(ROL, SHIFT, 0), OP(ROR, SHIFT, 1), OP(RCL, SHIFT, 2), OP(RCR, SHIFT, 3), OP(SHL, SHIFT, 4),
    OP(SHR, SHIFT, 5), OP(SAR, SHIFT, 7), OP(SHLD, SHLD, 0), OP(SHRD, SHRD, 0),
    OP(BT, BT, 0), OP(BTS, BT, 1), OP(BTR, BT, 2), OP(BTC, BT, 3), OP(BSF, BSF, 0),
    OP(BSR, BSR, 0), OP(TZCNT, TZCNT, 0), OP(LZCNT, LZCNT, 0), OP(POPCNT, POPCNT, 0),
    OP(ANDN, ANDN, 0), OP(BEXTR, BEXTR, 0), OP(BLSI, BLSI, 0), OP(BLSMSK, BLSMSK, 0),
    OP(BLSR, BLSR, 0), OP(BZHI, BZHI, 0), OP(MULX, MULX, 0), OP(PDEP, PDEP, 0), OP(PEXT, PEXT, 0),
    OP(RORX, RORX, 0), OP(SARX, SARX, 0), OP(SHLX, SHLX, 0), OP(SHRX, SHRX, 0),
    OP(ADCX, ADCX, 0), OP(ADOX, ADOX, 0),
    OP(XADD, XADD, 0), OP(CMPXCHG, CMPXCHG, 0), OP(CMPXCHG8B, CMPXCHG8B, 0),
    OP(CMPXCHG16B, CMPXCHG8B, 1), OP(CRC32, CRC32, 0),
    OP(CLC, CLC, 0), OP(STC, STC, 0), OP(CMC, CMC, 0), OP(CLD, CLD, 0), OP(STD, STD, 0),
    OP(JO, JCC, 0), OP(JNO, JCC, 1), OP(JB, JCC, 2), OP(JNB, JCC, 3), OP(JZ, JCC, 4),
    OP(JNZ, JCC, 5), OP(JBE, JCC, 6), OP(JNBE, JCC, 7), OP(JS, JCC, 8), OP(JNS, JCC, 9),
    OP(JP, JCC, 10), OP(JNP, JCC, 11), OP(JL, JCC, 12), OP(JNL, JCC, 13), OP(JLE, JCC, 14),
    OP(JNLE, JCC, 15),
    OP(CMOVO, CMOV, 0), OP(CMOVNO, CMOV, 1), OP(CMOVB, CMOV, 2), OP(CMOVNB, CMOV, 3),
    OP(CMOVZ, CMOV, 4), OP(CMOVNZ, CMOV, 5), OP(CMOVBE, CMOV, 6), OP(CMOVNBE, CMOV, 7),
    OP(CMOVS, CMOV, 8), OP(CMOVNS, CMOV, 9), OP(CMOVP, CMOV, 10), OP(CMOVNP, CMOV, 11),
    OP(CMOVL, CMOV, 12), OP(CMOVNL, CMOV, 13), OP(CMOVLE, CMOV, 14), OP(CMOVNLE, CMOV, 15),
    OP(SETO, SETCC, 0), OP(SETNO, SETCC, 1), OP(SETB, SETCC, 2), OP(SETNB, SETCC, 3),
    OP(SETZ, SETCC, 4), OP(SETNZ, SETCC, 5), OP(SETBE, SETCC, 6), OP(SETNBE, SETCC, 7),
    OP(SETS, SETCC, 8), OP(SETNS, SETCC, 9), OP(SETP, SETCC, 10), OP(SETNP, SETCC, 11),
    OP(SETL, SETCC, 12), OP(SETNL, SETCC, 13), OP(SETLE, SETCC, 14), OP(SETNLE, SETCC, 15),
    OP(JCXZ, JCXZ, 0), OP(JECXZ, JCXZ, 0), OP(JRCXZ, JCXZ, 0),
    OP(LOOP, LOOP, 0), OP(LOOPE, LOOP, 1), OP(LOOPNE, LOOP, 2),
    OP(INT, INT, 0), OP(INT3, INT, 1), OP(INT1, INT, 2), OP(INTO, INTO, 0),
    OP(IRET, IRET, 0), OP(IRETD, IRET, 0), OP(IRETQ, IRET, 0),
    OP(MOVSB, MOVS, 0), OP(MOVSW, MOVS, 0), OP(MOVSD, MOVS, 0), OP(MOVSQ, MOVS, 0),
    OP(CMPSB, CMPS, 0), OP(CMPSW, CMPS, 0), OP(CMPSD, CMPS, 0), OP(CMPSQ, CMPS, 0),
    OP(SCASB, SCAS, 0), OP(SCASW, SCAS, 0), OP(SCASD, SCAS, 0), OP(SCASQ, SCAS, 0),
    OP(LODSB, LODS, 0), OP(LODSW, LODS, 0), OP(LODSD, LODS, 0), OP(LODSQ, LODS, 0),
    OP(STOSB, STOS, 0), OP(STOSW, STOS, 0), OP(STOSD, STOS, 0), OP(STOSQ, STOS, 0),
    OP(INSB, INS, 0), OP(INSW, INS, 0), OP(INSD, INS, 0),
    OP(OUTSB, OUTS, 0), OP(OUTSW, OUTS, 0), OP(OUTSD, OUTS, 0),
    OP(CPUID, CPUID, 0), OP(RDTSC, RDTSC, 0), OP(RDTSCP, RDTSCP, 0), OP(RDRAND, RDRAND, 0),
    OP(RDSEED, RDRAND, 1), OP(PAUSE, PAUSE, 0), OP(HLT, HLT, 0), OP(CLI, CLI, 0), OP(STI, STI, 0),
    OP(UD0, UD, 0), OP(UD1, UD, 0), OP(UD2, UD, 0),
    OP(LGDT, LGDT, 0), OP(LIDT, LIDT, 0), OP(SGDT, SGDT, 0), OP(SIDT, SIDT, 0),
    OP(LLDT, LLDT, 0), OP(SLDT, SLDT, 0), OP(LTR, LTR, 0), OP(STR, STR, 0), OP(LMSW, LMSW, 0),
    OP(SMSW, SMSW, 0),
    OP(LDS, LSEG, SEG_DS), OP(LES, LSEG, SEG_ES), OP(LFS, LSEG, SEG_FS), OP(LGS, LSEG, SEG_GS),
    OP(LSS, LSEG, SEG_SS),
    OP(RDMSR, RDMSR, 0), OP(WRMSR, WRMSR, 0), OP(IN, IN, 0), OP(OUT, OUT, 0),
    OP(SYSCALL, SYSCALL, 0), OP(SYSRET, SYSRET, 0), OP(SYSENTER, SYSENTER, 0),
    OP(SYSEXIT, SYSEXIT, 0), OP(SWAPGS, SWAPGS, 0),
    OP(RDFSBASE, RDFSGS, 0), OP(RDGSBASE, RDFSGS, 1), OP(WRFSBASE, WRFSGS, 0),
    OP(WRGSBASE, WRFSGS, 1),
    OP(INVLPG, INVLPG, 0), OP(VMCALL, VMCALL, 0), OP(CLTS, CLTS, 0), OP(XGETBV, XGETBV, 0),
    OP(XSETBV, XSETBV, 0), OP(RDPID, RDPID, 0), OP(WBINVD, WBINVD, 0), OP(INVD, WBINVD, 1),
    OP(CLAC, CLAC, 0), OP(STAC, STAC, 0), OP(LAR, LAR, 0), OP(LSL, LSL, 0), OP(VERR, VERR, 0), OP(VERW, VERW, 0), OP(ARPL, ARPL, 0), OP(RDPMC, RDPMC, 0),
    OP(MONITOR, MONITOR, 0), OP(MWAIT, MWAIT, 0), OP(INVPCID, INVPCID, 0),
};
#undef M
#undef ALU
#undef OP

/* Byte offset of a GPR inside vcpu.gpr, or 0xff. */
static uint8_t gpr_off(ZydisRegister r)
{
    if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL)
        return (uint8_t)((r - ZYDIS_REGISTER_AL) * 8);
    if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH)
        return (uint8_t)((r - ZYDIS_REGISTER_AH) * 8 + 1);
    if (r >= ZYDIS_REGISTER_SPL && r <= ZYDIS_REGISTER_R15B)
        return (uint8_t)((r - ZYDIS_REGISTER_SPL + 4) * 8);
    if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W)
        return (uint8_t)((r - ZYDIS_REGISTER_AX) * 8);
    if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D)
        return (uint8_t)((r - ZYDIS_REGISTER_EAX) * 8);
    if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15)
        return (uint8_t)((r - ZYDIS_REGISTER_RAX) * 8);
    return 0xff;
}

static uint8_t gpr_slot(ZydisRegister r)
{
    if (r == ZYDIS_REGISTER_NONE)
        return GPR_ZERO;
    if (r == ZYDIS_REGISTER_RIP || r == ZYDIS_REGISTER_EIP || r == ZYDIS_REGISTER_IP)
        return GPR_BRIP;
    uint8_t o = gpr_off(r);
    return o == 0xff ? GPR_ZERO : (uint8_t)(o / 8);
}

static uint8_t seg_of(ZydisRegister r)
{
    if (r >= ZYDIS_REGISTER_ES && r <= ZYDIS_REGISTER_GS)
        return (uint8_t)(r - ZYDIS_REGISTER_ES);
    return SEG_DS;
}

static bool is_fpu(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *zo)
{
    bool gp_known = mtab[zi->mnemonic].form != FM_NONE;
    switch (gp_known ? ZYDIS_CATEGORY_INVALID : zi->meta.category) {
    case ZYDIS_CATEGORY_X87_ALU: case ZYDIS_CATEGORY_FCMOV: case ZYDIS_CATEGORY_MMX:
    case ZYDIS_CATEGORY_SSE: case ZYDIS_CATEGORY_AVX: case ZYDIS_CATEGORY_AVX2:
    case ZYDIS_CATEGORY_AVX2GATHER: case ZYDIS_CATEGORY_AVX512: case ZYDIS_CATEGORY_AES:
    case ZYDIS_CATEGORY_PCLMULQDQ: case ZYDIS_CATEGORY_SHA: case ZYDIS_CATEGORY_LOGICAL_FP:
    case ZYDIS_CATEGORY_XSAVE: case ZYDIS_CATEGORY_XSAVEOPT: case ZYDIS_CATEGORY_BLEND:
    case ZYDIS_CATEGORY_BROADCAST: case ZYDIS_CATEGORY_VFMA: case ZYDIS_CATEGORY_STTNI:
    case ZYDIS_CATEGORY_GFNI: case ZYDIS_CATEGORY_VAES: case ZYDIS_CATEGORY_VPCLMULQDQ:
    case ZYDIS_CATEGORY_CONVERT: /* CVTSS2SI r, m32 names no vector register */
        return true;
    default:
        break;
    }
    if (zi->mnemonic == ZYDIS_MNEMONIC_FWAIT || zi->mnemonic == ZYDIS_MNEMONIC_EMMS)
        return true;
    for (unsigned k = 0; k < zi->operand_count_visible; k++) {
        if (zo[k].type != ZYDIS_OPERAND_TYPE_REGISTER)
            continue;
        switch (ZydisRegisterGetClass(zo[k].reg.value)) {
        case ZYDIS_REGCLASS_X87: case ZYDIS_REGCLASS_MMX: case ZYDIS_REGCLASS_XMM:
        case ZYDIS_REGCLASS_YMM: case ZYDIS_REGCLASS_ZMM: case ZYDIS_REGCLASS_MASK:
            return true;
        default:
            break;
        }
    }
    return false;
}

static void set_ud(struct insn *in)
{
    in->op = OP_UD;
}

/* Fill in from one Zydis decode; nxt is the offset of the next instruction from block start. */
static void translate(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *zo,
                      struct insn *in, unsigned mode)
{
    unsigned nimm = 0;
    uint8_t *regs[3] = {&in->r1, &in->r2, &in->r3};
    int memk = -1, immk = -1;
    char pat[4] = {0};
    in->opsz = (uint8_t)(zi->operand_width / 8);
    in->asz = (uint8_t)(zi->address_width / 8);
    if (in->opsz == 0)
        in->opsz = mode == MODE_64 ? 8 : mode == MODE_32 ? 4 : 2;
    if (in->asz == 0)
        in->asz = mode == MODE_64 ? 8 : mode == MODE_32 ? 4 : 2;
    in->mnem = (uint16_t)zi->mnemonic;
    in->opc = zi->opcode;
    in->modrm = (uint8_t)(zi->raw.modrm.mod << 6 | zi->raw.modrm.reg << 3 | zi->raw.modrm.rm);
    in->base = in->index = GPR_ZERO;
    in->seg = SEG_DS;
    if (zi->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE))
        in->flags |= IF_REP;
    if (zi->attributes & ZYDIS_ATTRIB_HAS_REPNE)
        in->flags |= IF_REPNE;
    if (zi->attributes & ZYDIS_ATTRIB_HAS_LOCK)
        in->flags |= IF_LOCK;
    if (zi->avx.vector_length)
        in->vlen = (uint8_t)(zi->avx.vector_length / 8);
    if (zi->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY && zi->encoding != ZYDIS_INSTRUCTION_ENCODING_3DNOW)
        in->flags |= IF_VEX;
    unsigned nv = zi->operand_count_visible < 4 ? zi->operand_count_visible : 4;
    in->nops = (uint8_t)nv;
    for (unsigned k = 0; k < nv; k++) {
        const ZydisDecodedOperand *o = &zo[k];
        in->ops[k].size = (uint8_t)(o->size / 8);
        switch (o->type) {
        case ZYDIS_OPERAND_TYPE_REGISTER:
            in->ops[k].kind = OPK_REG;
            in->ops[k].reg = (uint16_t)o->reg.value;
            if (k < 3) {
                uint8_t off = gpr_off(o->reg.value);
                *regs[k] = off == 0xff ? 0 : off;
            }
            pat[k] = 'R';
            break;
        case ZYDIS_OPERAND_TYPE_MEMORY: {
            in->ops[k].kind = OPK_MEM;
            memk = (int)k;
            in->flags |= IF_MEM;
            in->base = gpr_slot(o->mem.base);
            in->index = gpr_slot(o->mem.index);
            in->scale = o->mem.scale ? (uint8_t)__builtin_ctz(o->mem.scale) : 0;
            in->seg = seg_of(o->mem.segment);
            int64_t d = o->mem.disp.value;
            if (in->base == GPR_BRIP)
                d += in->nxt;
            if (d != (int32_t)d && in->asz == 8) {
                in->imm2 = (uint64_t)d; /* moffs64 */
                in->flags |= IF_ABS;
                d = 0;
            }
            in->disp = (int32_t)d;
            pat[k] = 'M';
            break;
        }
        case ZYDIS_OPERAND_TYPE_IMMEDIATE:
            in->ops[k].kind = OPK_IMM;
            if (immk < 0)
                immk = (int)k;
            {
                uint64_t v = o->imm.value.u;
                if (o->imm.is_relative)
                    v = (uint64_t)((int64_t)in->nxt + o->imm.value.s);
                if (nimm++ == 0)
                    in->imm = v;
                else
                    in->imm2 = v;
            }
            pat[k] = 'I';
            break;
        case ZYDIS_OPERAND_TYPE_POINTER:
            in->imm = o->ptr.offset;
            in->imm2 = o->ptr.segment;
            pat[k] = 'P';
            break;
        default:
            break;
        }
    }
    if (memk < 0) {
        /* Implicit stack references (PUSH, CALL, ...) use SS, which matters for their faults. */
        for (unsigned k = nv; k < zi->operand_count; k++)
            if (zo[k].type == ZYDIS_OPERAND_TYPE_MEMORY && zo[k].mem.segment == ZYDIS_REGISTER_SS)
                in->seg = SEG_SS;
        /* MASKMOVQ/MASKMOVDQU store at DS:rDI, and DS can be overridden. */
        if (zi->mnemonic == ZYDIS_MNEMONIC_MASKMOVQ || zi->mnemonic == ZYDIS_MNEMONIC_MASKMOVDQU)
            for (unsigned k = nv; k < zi->operand_count; k++)
                if (zo[k].type == ZYDIS_OPERAND_TYPE_MEMORY)
                    in->seg = seg_of(zo[k].mem.segment);
    }
    if (zi->meta.category == ZYDIS_CATEGORY_STRINGOP || zi->meta.category == ZYDIS_CATEGORY_IOSTRINGOP) {
        /* The source (rSI) operand carries the overridable segment; ES:rDI never does. */
        in->seg = SEG_DS;
        for (unsigned k = 0; k < zi->operand_count; k++) {
            ZydisRegister b = zo[k].mem.base;
            if (zo[k].type == ZYDIS_OPERAND_TYPE_MEMORY &&
                (b == ZYDIS_REGISTER_SI || b == ZYDIS_REGISTER_ESI || b == ZYDIS_REGISTER_RSI))
                in->seg = seg_of(zo[k].mem.segment);
        }
    }

    if (is_fpu(zi, zo)) {
        in->op = OP_FPU;
        return;
    }
    const struct mmap_ent *m = &mtab[zi->mnemonic];
    in->cc = m->cc;
    switch (zi->mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
        if (pat[0] == 'R' && ZydisRegisterGetClass(zo[0].reg.value) == ZYDIS_REGCLASS_SEGMENT) {
            in->op = OP_MOV_SEG_W;
            in->cc = seg_of(zo[0].reg.value);
            in->r1 = in->r2; /* source GPR */
            if (pat[1] == 'R')
                in->r1 = gpr_off(zo[1].reg.value);
            return;
        }
        if (pat[1] == 'R' && ZydisRegisterGetClass(zo[1].reg.value) == ZYDIS_REGCLASS_SEGMENT) {
            in->op = OP_MOV_SEG_R;
            in->cc = seg_of(zo[1].reg.value);
            if (pat[0] == 'R')
                in->r1 = gpr_off(zo[0].reg.value);
            return;
        }
        for (unsigned k = 0; k < 2; k++) {
            if (pat[k] != 'R')
                continue;
            ZydisRegisterClass c = ZydisRegisterGetClass(zo[k].reg.value);
            if (c == ZYDIS_REGCLASS_CONTROL || c == ZYDIS_REGCLASS_DEBUG) {
                bool cr = c == ZYDIS_REGCLASS_CONTROL;
                in->op = k == 0 ? (cr ? OP_MOV_CR_W : OP_MOV_DR_W) : (cr ? OP_MOV_CR_R : OP_MOV_DR_R);
                in->cc = (uint8_t)ZydisRegisterGetId(zo[k].reg.value);
                in->r1 = gpr_off(zo[1 - k].reg.value);
                return;
            }
        }
        if (in->flags & IF_ABS) {
            in->op = OP_MOV_MOFFS;
            return;
        }
        break;
    case ZYDIS_MNEMONIC_PUSH:
        if (pat[0] == 'R' && ZydisRegisterGetClass(zo[0].reg.value) == ZYDIS_REGCLASS_SEGMENT) {
            in->op = OP_PUSH_SEG;
            in->cc = seg_of(zo[0].reg.value);
        } else {
            in->op = pat[0] == 'R' ? OP_PUSH_R : pat[0] == 'I' ? OP_PUSH_I : OP_PUSH_M;
        }
        return;
    case ZYDIS_MNEMONIC_POP:
        if (pat[0] == 'R' && ZydisRegisterGetClass(zo[0].reg.value) == ZYDIS_REGCLASS_SEGMENT) {
            in->op = OP_POP_SEG;
            in->cc = seg_of(zo[0].reg.value);
        } else {
            in->op = pat[0] == 'R' ? OP_POP_R : OP_POP_M;
        }
        return;
    case ZYDIS_MNEMONIC_INC:
    case ZYDIS_MNEMONIC_DEC:
        if (pat[0] == 'R' && !(in->flags & IF_LOCK)) {
            in->op = zi->mnemonic == ZYDIS_MNEMONIC_INC ? OP_INC_R : OP_DEC_R;
            return;
        }
        break;
    case ZYDIS_MNEMONIC_IMUL:
        in->op = nv == 1 ? OP_MUL1 : nv == 2 ? OP_IMUL2 : OP_IMUL3;
        in->cc = 1;
        return;
    case ZYDIS_MNEMONIC_JMP:
        in->op = zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR ? OP_JMP_FAR
                 : pat[0] == 'I' ? OP_JMP_REL : OP_JMP_RM;
        if (in->op == OP_JMP_FAR)
            in->cc = pat[0] == 'P';
        return;
    case ZYDIS_MNEMONIC_CALL:
        in->op = zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR ? OP_CALL_FAR
                 : pat[0] == 'I' ? OP_CALL_REL : OP_CALL_RM;
        if (in->op == OP_CALL_FAR)
            in->cc = pat[0] == 'P';
        return;
    case ZYDIS_MNEMONIC_RET:
        in->op = zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR ? OP_RET_FAR : OP_RET;
        if (nv == 0)
            in->imm = 0;
        return;
    case ZYDIS_MNEMONIC_IN:
    case ZYDIS_MNEMONIC_OUT:
        /* cc = 1 when the port is in DX. */
        in->op = m->op;
        in->cc = immk < 0;
        in->opsz = (uint8_t)(zo[zi->mnemonic == ZYDIS_MNEMONIC_IN ? 0 : 1].size / 8);
        return;
    case ZYDIS_MNEMONIC_MOVZX:
    case ZYDIS_MNEMONIC_MOVSX:
    case ZYDIS_MNEMONIC_MOVSXD:
        in->op = m->op;
        in->cc = (uint8_t)(zo[1].size / 8);
        return;
    case ZYDIS_MNEMONIC_CRC32:
        in->op = OP_CRC32;
        in->cc = (uint8_t)(zo[1].size / 8);
        return;
    case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_SCASB:
    case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_INSB:
    case ZYDIS_MNEMONIC_OUTSB:
        in->opsz = 1;
        break;
    default:
        break;
    }
    switch (m->form) {
    case FM_OP:
        in->op = m->op;
        break;
    case FM_ALU: {
        unsigned f;
        if (pat[0] == 'R' && pat[1] == 'R') f = 0;
        else if (pat[0] == 'R' && pat[1] == 'I') f = 1;
        else if (pat[0] == 'R' && pat[1] == 'M') f = 2;
        else if (pat[0] == 'M' && pat[1] == 'R') f = 3;
        else if (pat[0] == 'M' && pat[1] == 'I') f = 4;
        else { set_ud(in); return; }
        in->op = (uint16_t)(m->op + f);
        if (f == 1 || f == 4)
            in->imm &= in->opsz >= 8 ? ~0ull : (1ull << (in->opsz * 8)) - 1;
        break;
    }
    default:
        set_ud(in);
        break;
    }
}

static void decoder_for(ZydisDecoder *d, unsigned mode)
{
    if (mode == MODE_64)
        ZydisDecoderInit(d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    else if (mode == MODE_32)
        ZydisDecoderInit(d, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
    else
        ZydisDecoderInit(d, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
}

void decode_terminate(struct insn *out, unsigned n)
{
    struct insn *t = &out[n];
    memset(t, 0, sizeof(*t));
    t->op = OP_END;
    t->idx = (uint8_t)n;
    t->nxt = n ? out[n - 1].nxt : 0;
}

bool decode_crossed(const struct insn *in, unsigned n, gva_t rip)
{
    return n && (rip & (PAGE_SIZE - 1)) + in[n - 1].nxt > PAGE_SIZE;
}

unsigned decode_block(struct vcpu *vp, gva_t rip, gpa_t gpa, struct insn *out, unsigned max)
{
    ZydisDecoder dec;
    decoder_for(&dec, vp->mode);
    unsigned page_left = (unsigned)(PAGE_SIZE - (rip & (PAGE_SIZE - 1)));
    uint8_t bytes[PAGE_SIZE + 16];
    mem_code_read(vp, gpa, bytes, page_left);
    unsigned have = page_left, off = 0, n = 0;
    bool tail_fetched = false;
    while (n < max && off < page_left) {
        if (!tail_fetched && have - off < 15) {
            /* The instruction may run into the next page: fetch up to 15 bytes more through
             * the page walk (a fault there only matters if the bytes are needed). */
            have += mem_fetch_bytes(vp, (rip + page_left) & vp->lin_mask, bytes + page_left, 15);
            tail_fetched = true;
        }
        ZydisDecodedInstruction zi;
        ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
        struct insn *in = &out[n];
        memset(in, 0, sizeof(*in));
        in->idx = (uint8_t)n;
        ZyanStatus st = ZydisDecoderDecodeFull(&dec, bytes + off, have - off, &zi, zo);
        if (!ZYAN_SUCCESS(st)) {
            if (st == ZYDIS_STATUS_NO_MORE_DATA && n > 0)
                break; /* let the next block start here and fault on the fetch */
            if (st == ZYDIS_STATUS_NO_MORE_DATA) {
                /* Fault on the bytes of the next page, at this instruction. */
                mem_fetch_gpa(vp, (rip + page_left) & vp->lin_mask);
            }
            in->len = 1;
            in->nxt = (uint16_t)(off + 1);
            in->op = OP_UD;
            n++;
            break;
        }
        in->len = zi.length;
        in->nxt = (uint16_t)(off + zi.length);
        translate(&zi, zo, in, vp->mode);
        off += zi.length;
        n++;
        if (op_ends_block[in->op])
            break;
    }
    decode_terminate(out, n);
    return n;
}
