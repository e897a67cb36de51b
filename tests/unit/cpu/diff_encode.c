/* Case construction for the differential tests: picks registers (byte registers with and
 * without REX), memory operands (ModRM/SIB/disp, RIP-relative, page-crossing, faulting),
 * prefixes, immediates and form-specific operand biases, then encodes the instruction. */
#include <string.h>

#include "diff_case.h"

/* Physical GPR behind a ModRM register field: without REX, byte fields 4-7 are AH..BH. */
static unsigned phys_reg(unsigned field, bool byte, bool rex)
{
    return (byte && !rex && field >= 4 && field < 8) ? field - 4 : field;
}

static bool field_ok(unsigned field, bool byte, bool rex, unsigned avoid1, unsigned avoid2)
{
    unsigned p = phys_reg(field, byte, rex);
    return p != R_RSP && p != avoid1 && p != avoid2;
}

static unsigned pick_field(uint64_t *r, bool byte, bool rex, unsigned avoid1, unsigned avoid2)
{
    for (;;) {
        unsigned f = (unsigned)(diff_rand(r) % (rex ? 16 : 8));
        if (field_ok(f, byte, rex, avoid1, avoid2))
            return f;
    }
}

void dv_put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t dv_get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint64_t dv_size_mask(unsigned size) { return size == 8 ? ~0ull : (1ull << (size * 8)) - 1; }

/* Reads an operand from the generated state: a register field (possibly a byte register)
 * or the memory operand. */
static uint64_t operand_value(const struct diff_case *c, const struct diff_ctx *x, bool mem,
                              unsigned field, bool byte, bool rex, uint64_t addr, unsigned size)
{
    if (mem)
        return dv_get_le(x->buf + (addr - x->buf_va), size);
    unsigned p = phys_reg(field, byte, rex);
    uint64_t v = c->gpr[p];
    if (byte && !rex && field >= 4 && field < 8)
        v >>= 8;
    return v & dv_size_mask(size);
}

static void set_reg_part(struct diff_case *c, unsigned field, bool byte, bool rex, uint64_t v,
                         unsigned size)
{
    unsigned p = phys_reg(field, byte, rex);
    unsigned sh = (byte && !rex && field >= 4 && field < 8) ? 8 : 0;
    uint64_t m = dv_size_mask(size) << sh;
    c->gpr[p] = (c->gpr[p] & ~m) | ((v << sh) & m);
}

/* Builds case number idx of form f at the given size. */
void diff_build_case(struct diff_ctx *x, const struct diff_form *f, unsigned size, uint64_t *r,
                       struct diff_case *c)
{
    memset(c, 0, sizeof(*c));
    c->size = size;
    bool vex = f->enc >= E_VEX_RVM;
    bool modrm = f->enc != E_NONE && f->enc != E_OPREG && f->enc != E_SEQ;
    c->mem = modrm && (f->mem == M_MEM || (f->mem == M_BOTH && (diff_rand(r) & 1)));
    bool rex = !f->compat && f->enc != E_SEQ && (vex || size == 8 || (diff_rand(r) & 1));
    bool byte_reg = size == 1 && !vex;
    bool byte_rm = byte_reg || f->byte_rm;

    for (unsigned i = 0; i < 16; i++)
        c->gpr[i] = dv_value(r, size);
    c->gpr[R_RSP] = x->buf_va + STACK_OFF;
    if (f->xmm)
        for (unsigned k = 0; k < 16; k++)
            dv_xmm(r, f->lanes, c->xmm[k]);
    else
        for (unsigned k = 0; k < 16; k++)
            c->xmm[k][0] = c->xmm[k][1] = 0x5A5A5A5A00000000ull | k; /* must survive */

    /* Memory base/index come from registers no form uses implicitly. */
    static const unsigned bases[] = {R_RBX, R_RBP, 8, 9, 10, 11, 12, 13, 14, 15};
    unsigned base = 99, index = 99;
    if (c->mem) {
        base = rex ? bases[diff_rand(r) % ARRAY_SIZE(bases)] : (diff_rand(r) & 1 ? R_RBX : R_RBP);
        if (rex && (diff_rand(r) % 3) == 0)
            do
                index = bases[diff_rand(r) % ARRAY_SIZE(bases)];
            while (index == base || index == 12);
    }
    unsigned reg = 0, rm = 0, vvvv = 0;
    switch (f->enc) {
    case E_RM_R:
    case E_R_RM:
        reg = (f->xmm & XR) ? (unsigned)(diff_rand(r) % (rex ? 16 : 8))
                            : pick_field(r, byte_reg, rex, base, index);
        rm = c->mem ? base
             : (f->xmm & XM) ? (unsigned)(diff_rand(r) % (rex ? 16 : 8))
                             : pick_field(r, byte_rm, rex, base, index);
        break;
    case E_RM_EXT:
        reg = f->ext;
        rm = c->mem ? base
             : (f->xmm & XM) ? (unsigned)(diff_rand(r) % (rex ? 16 : 8))
                             : pick_field(r, byte_rm, rex, base, index);
        break;
    case E_OPREG:
        rm = pick_field(r, byte_reg, rex, 99, 99);
        break;
    case E_VEX_VM:
        reg = f->ext;
        vvvv = pick_field(r, false, true, base, index);
        rm = c->mem ? base : pick_field(r, false, true, base, index);
        break;
    case E_VEX_RM:
        reg = pick_field(r, false, true, base, index);
        rm = c->mem ? base : pick_field(r, false, true, base, index);
        break;
    case E_VEX_RVM:
    case E_VEX_RMV:
        reg = pick_field(r, false, true, base, index);
        vvvv = pick_field(r, false, true, base, index);
        rm = c->mem ? base : pick_field(r, false, true, base, index);
        break;
    default:
        break;
    }

    /* Memory operand address and encoding of ModRM/SIB/displacement. */
    uint64_t addr = 0;
    uint8_t modrm_b = 0, sib = 0, disp_len = 0;
    bool has_sib = false, riprel = false;
    int32_t disp = 0;
    if (c->mem) {
        addr = x->buf_va + MEM_LO + diff_rand(r) % 0x3f0;
        /* One case in eight straddles the 4 KiB page boundary at buffer offset 0x1000. */
        if ((diff_rand(r) & 7) == 0)
            addr = x->buf_va + 0x1000 - 1 - diff_rand(r) % 7;
        /* CMPXCHG16B and legacy-SSE packed operands need 16-byte alignment (#GP
         * otherwise): aligned three times in four. */
        if ((f->gen == G_CMPXCHG8 || f->align16) && (diff_rand(r) & 3) != 0)
            addr &= ~15ull;
        for (unsigned i = 0; i < 0x400; i += 8)
            dv_put_le(x->buf + MEM_LO + i, diff_rand(r), 8);
        for (unsigned i = 0; i < 0x80; i += 8)
            dv_put_le(x->buf + 0x1000 - 0x40 + i, diff_rand(r), 8);
        dv_put_le(x->buf + (addr - x->buf_va), dv_value(r, 8), 8);
        if (f->xmm) {
            uint64_t v[2];
            dv_xmm(r, f->lanes, v);
            dv_put_le(x->buf + (addr - x->buf_va), v[0], 8);
            dv_put_le(x->buf + (addr - x->buf_va) + 8, v[1], 8);
        }
        unsigned mod = (unsigned)(diff_rand(r) % 3);
        if (mod == 0 && (base & 7) == R_RBP)
            mod = 1;
        disp = mod == 1 ? (int8_t)diff_rand(r) : mod == 2 ? (int32_t)(diff_rand(r) % 0x20000) - 0x10000 : 0;
        disp_len = mod == 1 ? 1 : mod == 2 ? 4 : 0;
        uint64_t ea = addr - (uint64_t)(int64_t)disp;
        has_sib = (base & 7) == R_RSP || index != 99;
        /* A quarter of the simple cases use RIP-relative (64-bit) or absolute disp32
         * (32-bit) addressing: mod 00, r/m 101; the displacement is fixed up once the
         * instruction length is known. */
        int64_t reach = (int64_t)(addr - (x->insn_va + 32));
        bool rip_ok = f->compat ? addr < 0x100000000ull : reach == (int32_t)reach;
        riprel = index == 99 && !f->fault && rip_ok && diff_rand(r) % 4 == 0;
        if (riprel) {
            has_sib = false;
            disp_len = 4;
            modrm_b = (uint8_t)((reg & 7) << 3 | 5);
        } else if (index != 99) {
            unsigned scale = (unsigned)(diff_rand(r) & 3);
            uint64_t iv = diff_rand(r) % 64;
            c->gpr[index] = iv;
            ea -= iv << scale;
            sib = (uint8_t)(scale << 6 | (index & 7) << 3 | (base & 7));
        } else {
            sib = (uint8_t)(4 << 3 | (base & 7));
        }
        /* Fault forms: a non-canonical address (#GP, or #SS with RBP as base: SDM Vol 3
         * 6.15), or a canonical kernel-half address that neither side maps (#PF). */
        if (f->fault == FAULT_NONCANON)
            ea ^= 1ull << 60;
        else if (f->fault == FAULT_UNMAPPED)
            ea = 0xffff800000000000ull + (ea & 0xfffff);
        if (!riprel) {
            c->gpr[base] = ea;
            modrm_b = (uint8_t)(mod << 6 | (reg & 7) << 3 | (has_sib ? 4 : (base & 7)));
        }
    } else {
        modrm_b = (uint8_t)(0xC0 | (reg & 7) << 3 | (rm & 7));
    }

    /* Shift counts. */
    if (f->cnt == C_CL) {
        c->count = dv_count(r, size, f->gen == G_SHXD && size == 2);
        c->gpr[R_RCX] = (c->gpr[R_RCX] & ~0xffull) | c->count;
    } else if (f->cnt == C_ONE) {
        c->count = 1;
    } else if (f->cnt == C_IMM) {
        c->count = dv_count(r, size, f->gen == G_SHXD && size == 2);
    }

    /* Form-specific operand biases. */
    switch (f->gen) {
    case G_DIV: {
        uint64_t d = operand_value(c, x, c->mem, rm, byte_rm, rex, addr, size);
        uint64_t lo = size == 1 ? c->gpr[R_RAX] & 0xff : c->gpr[R_RAX] & dv_size_mask(size);
        uint64_t sgn = (lo >> (size * 8 - 1)) & 1 ? dv_size_mask(size) : 0;
        uint64_t hi;
        switch (diff_rand(r) & 3) {
        case 0: hi = 0; break;
        case 1: hi = sgn; break;
        case 2: hi = d ? diff_rand(r) % d : 0; break;
        default: hi = diff_rand(r) & dv_size_mask(size); break;
        }
        if (size == 1)
            c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xff00ull) | (hi & 0xff) << 8;
        else
            c->gpr[R_RDX] = (c->gpr[R_RDX] & ~dv_size_mask(size)) | hi;
        break;
    }
    case G_BT:
        /* Register bit offsets reach far in memory forms: keep them within the buffer. */
        if (c->mem)
            set_reg_part(c, reg, byte_reg, rex, (uint64_t)((int64_t)(diff_rand(r) % 1024) - 512), size);
        break;
    case G_CMPXCHG8:
        /* rDX:rAX equal to the memory operand half of the time. */
        if (diff_rand(r) & 1) {
            unsigned half = size == 8 ? 8 : 4;
            uint64_t lo = dv_get_le(x->buf + (addr - x->buf_va), half);
            uint64_t hi = dv_get_le(x->buf + (addr - x->buf_va) + half, half);
            c->gpr[R_RAX] = (c->gpr[R_RAX] & ~dv_size_mask(half)) | lo;
            c->gpr[R_RDX] = (c->gpr[R_RDX] & ~dv_size_mask(half)) | hi;
        }
        break;
    case G_XLAT:
        c->gpr[R_RBX] = x->buf_va + MEM_LO + diff_rand(r) % 0x200;
        break;
    case G_X87:
    case G_FPCTL: {
        uint64_t at = MEM_LO + (diff_rand(r) % 0x100 & ~15ull);
        c->gpr[R_RBX] = x->buf_va + at;
        for (unsigned i = 0; i < 0x40; i += 8)
            dv_put_le(x->buf + at + i, diff_rand(r), 8);
        for (unsigned k = 0; k < 2; k++) {
            uint8_t *o = x->buf + at + 0x10 * k;
            if (f->lanes == L_F80) {
                dv_put_le(o, dv_f80_mant(r), 8);
                dv_put_le(o + 8, dv_f80_se(r), 2);
            } else if (f->lanes == L_F32 || f->lanes == L_F64) {
                uint64_t v[2];
                dv_xmm(r, f->lanes, v);
                dv_put_le(o, v[0], 8);
                dv_put_le(o + 8, v[1], 8);
            } else {
                dv_put_le(o, dv_value(r, 8), 8);
            }
        }
        if (f->gen == G_FPCTL) {
            /* x87 control word at +0x30: all exceptions masked, random precision control
             * (single, double, extended) and rounding control (SDM Vol 1 8.1.5). */
            static const unsigned pcs[3] = {0, 2, 3};
            uint64_t pc = pcs[diff_rand(r) % 3], rc = diff_rand(r) & 3;
            dv_put_le(x->buf + at + 0x30, 0x7F | pc << 8 | rc << 10, 2);
            /* MXCSR at +0x34: all exceptions masked, random rounding, DAZ, FTZ and sticky
             * flags; +0x3C holds the reset value the sequence restores (SDM Vol 1 10.2.3). */
            uint64_t m = 0x1F80 | (diff_rand(r) & 0x603F) | (diff_rand(r) & 1) << 6 |
                         (diff_rand(r) & 1) << 15;
            dv_put_le(x->buf + at + 0x34, m, 4);
            dv_put_le(x->buf + at + 0x3C, 0x1F80, 4);
        }
        break;
    }
    case G_CMPXCHG:
        if (diff_rand(r) & 1) {
            uint64_t d = operand_value(c, x, c->mem, rm, byte_rm, rex, addr, size);
            c->gpr[R_RAX] = (c->gpr[R_RAX] & ~dv_size_mask(size)) | d;
        }
        break;
    case G_STRING: {
        for (unsigned i = STR_SRC - 0x100; i < STR_DST + 0x100; i += 8)
            dv_put_le(x->buf + i, diff_rand(r), 8);
        if (diff_rand(r) & 1) {
            uint64_t v = dv_value(r, 8);
            unsigned n = (unsigned)(diff_rand(r) % 24) * 8;
            for (unsigned i = 0; i < n; i += 8) {
                dv_put_le(x->buf + STR_SRC - 0x80 + i, v, 8);
                dv_put_le(x->buf + STR_DST - 0x80 + i, v, 8);
            }
            c->gpr[R_RAX] = v;
        }
        c->gpr[R_RSI] = x->buf_va + STR_SRC + diff_rand(r) % 0x40;
        c->gpr[R_RDI] = x->buf_va + STR_DST + diff_rand(r) % 0x40;
        if ((diff_rand(r) & 3) == 0) {
            /* Across the page boundary at 0x1000, in either direction. */
            for (unsigned i = 0xF00; i < 0x1100; i += 8)
                dv_put_le(x->buf + i, diff_rand(r), 8);
            c->gpr[R_RDI] = x->buf_va + 0x1000 - 0x20 + diff_rand(r) % 0x40;
        }
        c->gpr[R_RCX] = diff_rand(r) % 17;
        if (diff_rand(r) & 1)
            c->rflags |= DF_DF;
        break;
    }
    case G_BEXTR:
        c->gpr[vvvv] = (diff_rand(r) & ~0xffffull) | (diff_rand(r) % 72) << 8 | diff_rand(r) % 72;
        break;
    case G_STACK: {
        for (unsigned i = STK_LO; i < STK_LO + STK_SIZE; i += 8)
            dv_put_le(x->buf + i, diff_rand(r), 8);
        /* POPF must not set TF (a host trap) or AC (host alignment checks at CPL 3). */
        uint64_t top = dv_get_le(x->buf + STACK_OFF, 8) & ~((1ull << 8) | (1ull << 18));
        dv_put_le(x->buf + STACK_OFF, top, 8);
        if (base != R_RBP && index != R_RBP)
            c->gpr[R_RBP] = x->buf_va + STACK_OFF - 0x80 + (diff_rand(r) % 0x100);
        break;
    }
    case G_BZHI:
        c->gpr[vvvv] = (diff_rand(r) & ~0xffull) | diff_rand(r) % 72;
        break;
    default:
        break;
    }
    c->rflags |= 2 | (diff_rand(r) & DF_ARITH);

    /* Immediate. */
    unsigned imm_len = 0;
    uint64_t imm = 0;
    switch (f->imm) {
    case I_8: imm_len = 1; break;
    case I_Z: imm_len = size == 1 ? 1 : size == 2 ? 2 : 4; break;
    case I_V: imm_len = size; break;
    case I_ADDR: imm_len = 8; break;
    case I_ENTER: imm_len = 3; break;
    default: break;
    }
    if (imm_len)
        imm = f->cnt == C_IMM ? c->count : dv_value(r, imm_len);
    if (f->imm == I_ADDR) {
        imm = x->buf_va + MEM_LO + diff_rand(r) % 0x3f0;
        for (unsigned i = 0; i < 0x400; i += 8)
            dv_put_le(x->buf + MEM_LO + i, diff_rand(r), 8);
    } else if (f->imm == I_ENTER) {
        /* ENTER iw, ib: nesting level mostly small (each level reads a frame pointer below
         * RBP and pushes it), sometimes up to 31. The frame stays small: with a nesting
         * level the host also touches the final stack position, which must be mapped. */
        unsigned level = (unsigned)(diff_rand(r) & 1 ? diff_rand(r) % 4 : diff_rand(r) % 32);
        imm = (diff_rand(r) & 0x1ff) | (uint64_t)level << 16;
    }

    /* Assemble: [66] [prefix] [REX | VEX] [escape] opcode [ModRM [SIB] [disp]] [imm]. */
    uint8_t *p = c->code;
    unsigned n = 0;
    uint8_t opc = size == 1 ? f->op8 : f->op;
    if (f->enc == E_OPREG)
        opc = (uint8_t)(opc + (rm & 7));
    unsigned xb = riprel ? 0 : c->mem ? base : rm;
    unsigned xi = index == 99 ? 0 : index;
    if (vex) {
        p[n++] = 0xC4;
        p[n++] = (uint8_t)((((reg >> 3) & 1) ^ 1) << 7 | (((xi >> 3) & 1) ^ 1) << 6 |
                           (((xb >> 3) & 1) ^ 1) << 5 | f->map);
        p[n++] = (uint8_t)((size == 8 ? 0x80u : 0u) | ((~vvvv) & 15) << 3 | f->vex_pp);
    } else {
        /* Prefixes that 64-bit mode ignores (segment overrides other than FS/GS) or that
         * change address size (0x67: 32-bit addresses, which all buffers here fit) are
         * sprinkled over memory and string forms. */
        static const uint8_t segs[4] = {0x26, 0x2E, 0x36, 0x3E};
        if (c->mem && !f->compat && (diff_rand(r) & 7) == 0)
            p[n++] = segs[diff_rand(r) & 3];
        if ((c->mem || f->gen == G_STRING) && !f->compat && !f->fault && x->buf_low &&
            (diff_rand(r) & 7) == 0)
            p[n++] = 0x67;
        if (size == 2)
            p[n++] = 0x66;
        if (f->prefix)
            p[n++] = f->prefix;
        unsigned rexb = (size == 8 ? 8u : 0u) | ((reg >> 3) & 1) << 2 | ((xi >> 3) & 1) << 1 | ((xb >> 3) & 1);
        if (f->enc == E_RM_EXT || f->enc == E_NONE)
            rexb &= ~4u;
        if (f->enc == E_NONE)
            rexb &= 8;
        if (rex)
            p[n++] = (uint8_t)(0x40 | rexb);
        if (f->map >= 1)
            p[n++] = 0x0F;
        if (f->map == 2)
            p[n++] = 0x38;
        if (f->map == 3)
            p[n++] = 0x3A;
    }
    c->op_pos = n;
    p[n++] = opc;
    if (modrm) {
        p[n++] = modrm_b;
        if (c->mem && has_sib)
            p[n++] = sib;
        dv_put_le(p + n, (uint64_t)(int64_t)disp, disp_len);
        n += disp_len;
    }
    unsigned disp_at = n - disp_len;
    dv_put_le(p + n, imm, imm_len);
    n += imm_len;
    c->len = n;
    c->insn_len = n;
    if (f->enc == E_SEQ) {
        memcpy(c->code, f->seq, f->seq_len);
        c->len = c->insn_len = f->seq_len;
        c->op_pos = 0;
        return;
    }
    if (riprel) {
        uint64_t d = f->compat ? addr : addr - (x->insn_va + n);
        dv_put_le(p + disp_at, d, 4);
    }
}

/* Flags the SDM leaves undefined for this case. */
uint32_t diff_undef_flags(const struct diff_form *f, const struct diff_case *c)
{
    uint32_t u = f->undef;
    unsigned cmask = c->size == 8 ? 63 : 31;
    unsigned cnt = c->count & cmask;
    switch (f->fr) {
    case FR_SHIFT:
    case FR_SAR:
    case FR_SHXD:
        if (cnt == 0)
            break;
        u |= DF_AF;
        if (cnt != 1)
            u |= DF_OF;
        if (f->fr == FR_SHIFT && cnt >= c->size * 8)
            u |= DF_CF;
        break;
    case FR_ROT:
        if (cnt != 0 && cnt != 1)
            u |= DF_OF;
        break;
    default:
        break;
    }
    return u;
}

/* A quarter of the cases consume the flags inside the same block: SETcc of each defined
 * flag into r11b..r15b (OF, CF, ZF, SF, PF), so lazily evaluated conditions are checked too. */
void diff_append_setcc(const struct diff_form *f, struct diff_case *c)
{
    static const struct { uint32_t flag; uint8_t cc; } picks[5] = {
        {DF_OF, 0x0}, {DF_CF, 0x2}, {DF_ZF, 0x4}, {DF_SF, 0x8}, {DF_PF, 0xA},
    };
    uint32_t u = diff_undef_flags(f, c);
    for (unsigned k = 0; k < 5; k++) {
        if (u & picks[k].flag)
            continue;
        uint8_t *p = c->code + c->len;
        p[0] = 0x41;
        p[1] = 0x0F;
        p[2] = (uint8_t)(0x90 + picks[k].cc);
        p[3] = (uint8_t)(0xC3 + k);
        c->len += 4;
    }
}
