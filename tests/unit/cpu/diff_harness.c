/* Differential-test runner: encodes random cases of each instruction form, runs them on the
 * host and in hvemu at the same virtual addresses, and compares registers, flags, RIP, memory. */
#include "diff_harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "diff_guest.h"

#define BUF_VA 0x10000000ull /* preferred native (and guest-virtual) address of the data buffer */
#define BUF_SIZE 0x10000u
#define CMP_SIZE 0x2000u     /* compared part of the buffer (two pages); the stack is above */
#define STACK_OFF 0xF000u
#define STK_LO (STACK_OFF - 0x200u) /* compared stack window (for completed cases only: */
#define STK_SIZE 0x400u            /* a host signal frame lands there on faults) */
#define WIN_SIZE (CMP_SIZE + STK_SIZE)
#define RFLAGS_IF 0x200u /* the host runs user code with IF=1; PUSHF must see the same */
#define MEM_LO 0x400u        /* memory operands land in [MEM_LO, MEM_LO + 0x400) */
#define STR_SRC 0x200u       /* string sources/destinations (room for DF=1 going down) */
#define STR_DST 0x900u
#define MAX_DUMPS 3
#define DEFAULT_SEED 0x6876656D75ull /* "hvemu" */
#define DEFAULT_CASES 300u

enum { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI };

static const char *const reg_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

uint64_t diff_seed(void)
{
    const char *s = getenv("HVEMU_DIFF_SEED");
    return s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
}

unsigned diff_cases(void)
{
    const char *s = getenv("HVEMU_DIFF_CASES");
    unsigned long n = s && *s ? strtoul(s, NULL, 0) : DEFAULT_CASES;
    return n ? (unsigned)n : 1;
}

struct diff_case {
    uint8_t code[48];
    unsigned len;
    unsigned insn_len; /* without the SETcc suffix */
    unsigned op_pos;   /* offset of the opcode byte */
    uint64_t gpr[16];
    uint64_t xmm[16][2];
    uint64_t rflags;
    unsigned size; /* bytes */
    bool mem;
    unsigned count; /* shift count as encoded (before masking) */
};

struct diff_ctx {
    struct native_exec *nx;
    struct diff_guest g;
    uint8_t *buf;
    gpa_t buf_gpa, insn_gpa;
    uint64_t buf_va, insn_va, insn_va64, insn_va32;
    gpa_t insn_gpa64, insn_gpa32;
    uint8_t before[WIN_SIZE]; /* compared windows: data area, then stack window */
    uint8_t emu_mem[WIN_SIZE];
    uint8_t after[WIN_SIZE];
    uint64_t seed;
    unsigned dumps;
    bool buf_low; /* the buffer lies below 4 GiB (32-bit addresses reach it) */
};

/* Edge values of an operand size, with random bits above it half of the time. */
static uint64_t gen_value(uint64_t *r, unsigned size)
{
    unsigned bits = size * 8;
    uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    uint64_t sign = 1ull << (bits - 1);
    uint64_t v, x = diff_rand(r);
    unsigned k = (unsigned)(x >> 8) % bits;
    switch (x & 15) {
    case 0: v = 0; break;
    case 1: v = 1; break;
    case 2: v = mask; break;
    case 3: v = sign - 1; break;
    case 4: v = sign; break;
    case 5: v = 1ull << k; break;
    case 6: v = (1ull << k) - 1; break;
    case 7: v = 0 - (1ull << k); break;
    case 8: v = (x >> 16) & 15; break;
    case 9: v = 0 - ((x >> 16) & 15); break;
    case 10: v = sign + ((x >> 16) & 3) - 2; break;
    default: v = diff_rand(r); break;
    }
    v &= mask;
    if (bits < 64 && (x & 0x10))
        v |= diff_rand(r) & ~mask;
    return v;
}

/* Floating-point edge values: zeros, ones, smallest/largest normals, denormals, infinities,
 * quiet/signalling NaNs with and without payload, integer-conversion limits, random bits. */
static uint32_t gen_f32(uint64_t *r)
{
    static const uint32_t pool[] = {
        0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x3fc00000, 0x00800000,
        0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000,
        0xffc00000, 0x7fc12345, 0x7f800001, 0xffa00000, 0x4f000000, 0xcf000000, 0x4effffff,
        0x5f000000, 0x42f70000, 0x3eaaaaab, 0x40490fdb, 0x4b000000, 0x3f000001,
    };
    uint64_t x = diff_rand(r);
    if (x & 1)
        return pool[(x >> 8) % ARRAY_SIZE(pool)] ^ (uint32_t)((x >> 40) & 1);
    if (x & 2)
        return (uint32_t)((x >> 8) % 2000000) | ((x >> 60 & 1) ? 0x80000000u : 0) |
               ((uint32_t)(0x3c + ((x >> 32) & 7)) << 24);
    return (uint32_t)(x >> 32);
}

static uint64_t gen_f64(uint64_t *r)
{
    static const uint64_t pool[] = {
        0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
        0xbff0000000000000ull, 0x3fe0000000000000ull, 0x3ff8000000000000ull,
        0x0010000000000000ull, 0x0000000000000001ull, 0x800fffffffffffffull,
        0x7fefffffffffffffull, 0xffefffffffffffffull, 0x7ff0000000000000ull,
        0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000000ull,
        0x7ff8000000012345ull, 0x7ff0000000000001ull, 0xfff4000000000000ull,
        0x41e0000000000000ull, 0xc1e0000000000000ull, 0x41dfffffffc00000ull,
        0x43e0000000000000ull, 0xc3e0000000000000ull, 0x405ee00000000000ull,
        0x400921fb54442d18ull, 0x4330000000000000ull, 0x3fe0000000000001ull,
    };
    uint64_t x = diff_rand(r);
    if (x & 1)
        return pool[(x >> 8) % ARRAY_SIZE(pool)] ^ ((x >> 40) & 1);
    if (x & 2)
        return ((x >> 8) % 2000000) << 29 | ((x >> 60 & 1) ? 1ull << 63 : 0) |
               (uint64_t)(0x3f8 + ((x >> 32) & 0x1f)) << 52;
    return diff_rand(r);
}

/* 80-bit extended edge values: significand (explicit integer bit) and sign/exponent. */
static uint64_t gen_f80_mant(uint64_t *r)
{
    static const uint64_t pool[] = {
        0x8000000000000000ull, 0xC000000000000000ull, 0x8000000000000001ull,
        0xFFFFFFFFFFFFFFFFull, 0x0000000000000001ull, 0x4000000000000000ull, 0,
        0xAAAAAAAAAAAAAAABull, 0x8000000000000800ull, 0x80000000000007FFull,
    };
    uint64_t x = diff_rand(r);
    if (x & 1)
        return pool[(x >> 8) % ARRAY_SIZE(pool)];
    return diff_rand(r) | 0x8000000000000000ull;
}

static uint64_t gen_f80_se(uint64_t *r)
{
    static const uint16_t pool[] = {0, 1, 0x3FFF, 0x3FFE, 0x4000, 0x403E, 0x403F, 0x7FFE, 0x7FFF,
                                    0x3FBF, 0x3C00, 0x43FF};
    uint64_t x = diff_rand(r);
    uint64_t e = (x & 1) ? pool[(x >> 8) % ARRAY_SIZE(pool)] : 0x3FFF + ((x >> 8) % 128) - 64;
    return e | ((x >> 40) & 1) << 15;
}

/* 16 bytes of XMM register or memory content for a form's lane type. */
static void gen_xmm(uint64_t *r, unsigned lanes, uint64_t out[2])
{
    for (unsigned h = 0; h < 2; h++) {
        if (lanes == L_F32)
            out[h] = gen_f32(r) | (uint64_t)gen_f32(r) << 32;
        else if (lanes == L_F64)
            out[h] = gen_f64(r);
        else
            out[h] = gen_value(r, 8);
    }
}

static unsigned gen_count(uint64_t *r, unsigned size, bool shxd16)
{
    static const unsigned picks[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255};
    uint64_t x = diff_rand(r);
    unsigned c = (x & 1) ? (unsigned)(x >> 8) & 0xff : picks[(x >> 1) % ARRAY_SIZE(picks)];
    if (x & 2)
        c = (unsigned)((x >> 16) % (size * 8 + 2));
    if (shxd16)
        c %= 17;
    return c;
}

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

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t size_mask(unsigned size) { return size == 8 ? ~0ull : (1ull << (size * 8)) - 1; }

/* Reads an operand from the generated state: a register field (possibly a byte register)
 * or the memory operand. */
static uint64_t operand_value(const struct diff_case *c, const struct diff_ctx *x, bool mem,
                              unsigned field, bool byte, bool rex, uint64_t addr, unsigned size)
{
    if (mem)
        return get_le(x->buf + (addr - x->buf_va), size);
    unsigned p = phys_reg(field, byte, rex);
    uint64_t v = c->gpr[p];
    if (byte && !rex && field >= 4 && field < 8)
        v >>= 8;
    return v & size_mask(size);
}

static void set_reg_part(struct diff_case *c, unsigned field, bool byte, bool rex, uint64_t v,
                         unsigned size)
{
    unsigned p = phys_reg(field, byte, rex);
    unsigned sh = (byte && !rex && field >= 4 && field < 8) ? 8 : 0;
    uint64_t m = size_mask(size) << sh;
    c->gpr[p] = (c->gpr[p] & ~m) | ((v << sh) & m);
}

/* Builds case number idx of form f at the given size. */
static void build_case(struct diff_ctx *x, const struct diff_form *f, unsigned size, uint64_t *r,
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
        c->gpr[i] = gen_value(r, size);
    c->gpr[R_RSP] = x->buf_va + STACK_OFF;
    if (f->xmm)
        for (unsigned k = 0; k < 16; k++)
            gen_xmm(r, f->lanes, c->xmm[k]);
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
            put_le(x->buf + MEM_LO + i, diff_rand(r), 8);
        for (unsigned i = 0; i < 0x80; i += 8)
            put_le(x->buf + 0x1000 - 0x40 + i, diff_rand(r), 8);
        put_le(x->buf + (addr - x->buf_va), gen_value(r, 8), 8);
        if (f->xmm) {
            uint64_t v[2];
            gen_xmm(r, f->lanes, v);
            put_le(x->buf + (addr - x->buf_va), v[0], 8);
            put_le(x->buf + (addr - x->buf_va) + 8, v[1], 8);
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
        c->count = gen_count(r, size, f->gen == G_SHXD && size == 2);
        c->gpr[R_RCX] = (c->gpr[R_RCX] & ~0xffull) | c->count;
    } else if (f->cnt == C_ONE) {
        c->count = 1;
    } else if (f->cnt == C_IMM) {
        c->count = gen_count(r, size, f->gen == G_SHXD && size == 2);
    }

    /* Form-specific operand biases. */
    switch (f->gen) {
    case G_DIV: {
        uint64_t d = operand_value(c, x, c->mem, rm, byte_rm, rex, addr, size);
        uint64_t lo = size == 1 ? c->gpr[R_RAX] & 0xff : c->gpr[R_RAX] & size_mask(size);
        uint64_t sgn = (lo >> (size * 8 - 1)) & 1 ? size_mask(size) : 0;
        uint64_t hi;
        switch (diff_rand(r) & 3) {
        case 0: hi = 0; break;
        case 1: hi = sgn; break;
        case 2: hi = d ? diff_rand(r) % d : 0; break;
        default: hi = diff_rand(r) & size_mask(size); break;
        }
        if (size == 1)
            c->gpr[R_RAX] = (c->gpr[R_RAX] & ~0xff00ull) | (hi & 0xff) << 8;
        else
            c->gpr[R_RDX] = (c->gpr[R_RDX] & ~size_mask(size)) | hi;
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
            uint64_t lo = get_le(x->buf + (addr - x->buf_va), half);
            uint64_t hi = get_le(x->buf + (addr - x->buf_va) + half, half);
            c->gpr[R_RAX] = (c->gpr[R_RAX] & ~size_mask(half)) | lo;
            c->gpr[R_RDX] = (c->gpr[R_RDX] & ~size_mask(half)) | hi;
        }
        break;
    case G_XLAT:
        c->gpr[R_RBX] = x->buf_va + MEM_LO + diff_rand(r) % 0x200;
        break;
    case G_X87: {
        uint64_t at = MEM_LO + (diff_rand(r) % 0x100 & ~15ull);
        c->gpr[R_RBX] = x->buf_va + at;
        for (unsigned i = 0; i < 0x40; i += 8)
            put_le(x->buf + at + i, diff_rand(r), 8);
        for (unsigned k = 0; k < 2; k++) {
            uint8_t *o = x->buf + at + 0x10 * k;
            if (f->lanes == L_F80) {
                put_le(o, gen_f80_mant(r), 8);
                put_le(o + 8, gen_f80_se(r), 2);
            } else if (f->lanes == L_F32) {
                put_le(o, gen_f32(r), 4);
            } else if (f->lanes == L_F64) {
                put_le(o, gen_f64(r), 8);
            } else {
                put_le(o, gen_value(r, 8), 8);
            }
        }
        break;
    }
    case G_CMPXCHG:
        if (diff_rand(r) & 1) {
            uint64_t d = operand_value(c, x, c->mem, rm, byte_rm, rex, addr, size);
            c->gpr[R_RAX] = (c->gpr[R_RAX] & ~size_mask(size)) | d;
        }
        break;
    case G_STRING: {
        for (unsigned i = STR_SRC - 0x100; i < STR_DST + 0x100; i += 8)
            put_le(x->buf + i, diff_rand(r), 8);
        if (diff_rand(r) & 1) {
            uint64_t v = gen_value(r, 8);
            unsigned n = (unsigned)(diff_rand(r) % 24) * 8;
            for (unsigned i = 0; i < n; i += 8) {
                put_le(x->buf + STR_SRC - 0x80 + i, v, 8);
                put_le(x->buf + STR_DST - 0x80 + i, v, 8);
            }
            c->gpr[R_RAX] = v;
        }
        c->gpr[R_RSI] = x->buf_va + STR_SRC + diff_rand(r) % 0x40;
        c->gpr[R_RDI] = x->buf_va + STR_DST + diff_rand(r) % 0x40;
        if ((diff_rand(r) & 3) == 0) {
            /* Across the page boundary at 0x1000, in either direction. */
            for (unsigned i = 0xF00; i < 0x1100; i += 8)
                put_le(x->buf + i, diff_rand(r), 8);
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
            put_le(x->buf + i, diff_rand(r), 8);
        /* POPF must not set TF (a host trap) or AC (host alignment checks at CPL 3). */
        uint64_t top = get_le(x->buf + STACK_OFF, 8) & ~((1ull << 8) | (1ull << 18));
        put_le(x->buf + STACK_OFF, top, 8);
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
        imm = f->cnt == C_IMM ? c->count : gen_value(r, imm_len);
    if (f->imm == I_ADDR) {
        imm = x->buf_va + MEM_LO + diff_rand(r) % 0x3f0;
        for (unsigned i = 0; i < 0x400; i += 8)
            put_le(x->buf + MEM_LO + i, diff_rand(r), 8);
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
        put_le(p + n, (uint64_t)(int64_t)disp, disp_len);
        n += disp_len;
    }
    unsigned disp_at = n - disp_len;
    put_le(p + n, imm, imm_len);
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
        put_le(p + disp_at, d, 4);
    }
}

/* Flags the SDM leaves undefined for this case. */
static uint32_t undef_flags(const struct diff_form *f, const struct diff_case *c)
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

struct form_stats {
    unsigned pass[4], fail[4], emu_ud[4], emu_other_fault[4], not_halted[4], host_fault[4];
};

static void dump_regs(const char *tag, const uint64_t *g, uint64_t fl)
{
    printf("    %-7s", tag);
    for (unsigned i = 0; i < 16; i++)
        printf("%s%s=%016" PRIx64, i && i % 4 == 0 ? "\n           " : " ", reg_names[i], g[i]);
    printf("\n           rflags=%04" PRIx64 "\n", fl);
}

static void report_mismatch(struct diff_ctx *x, const char *family, const struct diff_form *f,
                            const struct diff_case *c, unsigned idx, int nvec,
                            const struct native_regs *nout, const struct dg_result *er,
                            uint32_t fmask, const char *why)
{
    if (f->emu_xor || (x->dumps++ >= MAX_DUMPS && !getenv("HVEMU_DIFF_VERBOSE")))
        return;
    printf("[diff] MISMATCH %s/%s %u-bit %s: %s\n", family, f->name, c->size * 8,
           c->mem ? "mem" : "reg", why);
    printf("    seed=0x%" PRIx64 " case=%u (rerun: HVEMU_DIFF_SEED=0x%" PRIx64 " HVEMU_DIFF_FORM='%s')\n",
           x->seed, idx, x->seed, f->name);
    printf("    bytes:");
    for (unsigned i = 0; i < c->len; i++)
        printf(" %02x", c->code[i]);
    /* Disassemble the instruction (every one of an E_SEQ sequence). */
    printf("   =");
    for (unsigned at = 0; at < c->insn_len;) {
        ZydisDisassembledInstruction dis;
        if (!ZYAN_SUCCESS(ZydisDisassembleIntel(f->compat ? ZYDIS_MACHINE_MODE_LONG_COMPAT_32
                                                          : ZYDIS_MACHINE_MODE_LONG_64,
                                                x->insn_va + at, c->code + at, c->len - at, &dis))) {
            printf(" ?");
            break;
        }
        printf("%s %s", at ? ";" : "", dis.text);
        at += dis.info.length;
        if (f->enc != E_SEQ)
            break;
    }
    printf("%s   at rip=%016" PRIx64 " (then f4)\n",
           c->len > c->insn_len ? " + SETcc of each defined flag (OF CF ZF SF PF) into r11b..r15b" : "",
           x->insn_va);
    dump_regs("input", c->gpr, c->rflags);
    if (f->xmm)
        for (unsigned k = 0; k < 16; k += 2)
            printf("           xmm%-2u=%016" PRIx64 ":%016" PRIx64 " xmm%-2u=%016" PRIx64 ":%016" PRIx64 "\n",
                   k, c->xmm[k][1], c->xmm[k][0], k + 1, c->xmm[k + 1][1], c->xmm[k + 1][0]);
    if (nvec >= 0)
        printf("    native: exception vector %d (fault address %016" PRIx64 ")\n", nvec,
               native_exec_fault_addr(x->nx));
    else
        dump_regs("native", nout->gpr, nout->rflags);
    printf("    hvemu : stop=%d halted=%d vector=%d rip=%016" PRIx64 " cr2=%016" PRIx64
           " icount=%" PRIu64 "\n", (int)er->stop, er->halted, er->vector, er->rip, er->cr2,
           er->icount);
    if (nvec < 0) {
        for (unsigned i = 0; i < 16; i++)
            if (nout->gpr[i] != er->gpr[i])
                printf("    %-4s native=%016" PRIx64 " hvemu=%016" PRIx64 "\n", reg_names[i],
                       nout->gpr[i], er->gpr[i]);
        for (unsigned k = 0; k < 16; k++)
            if (memcmp(nout->xmm[k], er->xmm[k], 16))
                printf("    xmm%-2u input=%016" PRIx64 ":%016" PRIx64 " native=%016" PRIx64 ":%016" PRIx64
                       " hvemu=%016" PRIx64 ":%016" PRIx64 "\n", k, c->xmm[k][1], c->xmm[k][0],
                       nout->xmm[k][1], nout->xmm[k][0], er->xmm[k][1], er->xmm[k][0]);
        if ((nout->rflags ^ er->rflags) & fmask)
            printf("    flags native=%04" PRIx64 " hvemu=%04" PRIx64 " compared=%03x\n",
                   nout->rflags & fmask, er->rflags & fmask, fmask);
    }
    for (unsigned i = 0; i < (nvec < 0 ? WIN_SIZE : CMP_SIZE); i++)
        if (x->after[i] != x->emu_mem[i]) {
            uint64_t va = x->buf_va + (i < CMP_SIZE ? i : STK_LO + (i - CMP_SIZE));
            printf("    mem[%016" PRIx64 "] native=%02x hvemu=%02x (first difference)\n", va,
                   x->after[i], x->emu_mem[i]);
            break;
        }
    fflush(stdout);
}

static unsigned size_idx(unsigned size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

static uint64_t case_seed(uint64_t seed, const char *name, unsigned size, unsigned idx)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *s = name; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    uint64_t r = seed ^ h ^ ((uint64_t)size << 56) ^ (uint64_t)idx * 0x9E3779B97F4A7C15ull;
    diff_rand(&r);
    return r;
}

/* A quarter of the cases consume the flags inside the same block: SETcc of each defined
 * flag into r11b..r15b (OF, CF, ZF, SF, PF), so lazily evaluated conditions are checked too. */
static void append_setcc(const struct diff_form *f, struct diff_case *c)
{
    static const struct { uint32_t flag; uint8_t cc; } picks[5] = {
        {DF_OF, 0x0}, {DF_CF, 0x2}, {DF_ZF, 0x4}, {DF_SF, 0x8}, {DF_PF, 0xA},
    };
    uint32_t u = undef_flags(f, c);
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

static void win_save(const struct diff_ctx *x, uint8_t *dst)
{
    memcpy(dst, x->buf, CMP_SIZE);
    memcpy(dst + CMP_SIZE, x->buf + STK_LO, STK_SIZE);
}

static void win_to_guest(struct diff_ctx *x, const uint8_t *src)
{
    physmem_write(&x->g.pm, x->buf_gpa, src, CMP_SIZE);
    physmem_write(&x->g.pm, x->buf_gpa + STK_LO, src + CMP_SIZE, STK_SIZE);
}

static void win_from_guest(struct diff_ctx *x, uint8_t *dst)
{
    physmem_read(&x->g.pm, x->buf_gpa, dst, CMP_SIZE);
    physmem_read(&x->g.pm, x->buf_gpa + STK_LO, dst + CMP_SIZE, STK_SIZE);
}

/* Every eighth case runs again from the same state without rewriting the code, so the
 * decoded block is reused; the result must not change. */
static const char *replay(struct diff_ctx *x, const struct diff_case *c, const struct dg_result *er,
                          uint32_t fmask)
{
    struct dg_result e2;
    win_to_guest(x, x->before);
    dg_load(&x->g, c->gpr, c->rflags | RFLAGS_IF, x->insn_va);
    dg_load_xmm(&x->g, c->xmm);
    dg_run(&x->g, 64, 8, &e2);
    uint8_t *m2 = malloc(WIN_SIZE);
    if (!m2)
        return NULL;
    win_from_guest(x, m2);
    bool same_mem = memcmp(m2, x->emu_mem, WIN_SIZE) == 0;
    free(m2);
    if (e2.halted != er->halted || e2.vector != er->vector || e2.rip != er->rip ||
        memcmp(e2.gpr, er->gpr, sizeof(e2.gpr)) || memcmp(e2.xmm, er->xmm, sizeof(e2.xmm)) ||
        ((e2.rflags ^ er->rflags) & fmask) || !same_mem)
        return "decode-cache replay differs from the first run";
    return NULL;
}

/* Runs one case; returns true when native and hvemu agree. */
static bool run_case(struct diff_ctx *x, const char *family, const struct diff_form *f,
                     unsigned size, unsigned idx, struct form_stats *st)
{
    uint64_t r = case_seed(x->seed, f->name, size, idx);
    x->insn_va = f->compat ? x->insn_va32 : x->insn_va64;
    x->insn_gpa = f->compat ? x->insn_gpa32 : x->insn_gpa64;
    struct diff_case c;
    build_case(x, f, size, &r, &c);
    unsigned si = size_idx(size);
    if (!f->compat && f->enc != E_SEQ && idx % 4 == 3)
        append_setcc(f, &c);

    win_save(x, x->before);
    struct native_regs nio;
    memcpy(nio.gpr, c.gpr, sizeof(nio.gpr));
    memcpy(nio.xmm, c.xmm, sizeof(nio.xmm));
    nio.rflags = c.rflags;
    x->g.compat = f->compat;
    int nvec = f->compat ? native_exec_run32(x->nx, c.code, c.len, &nio)
                         : native_exec_run(x->nx, c.code, c.len, &nio);
    if (nvec >= 0)
        st->host_fault[si]++;

    uint8_t code[sizeof(c.code) + 1];
    memcpy(code, c.code, c.len);
    code[c.len] = 0xF4;
    code[c.op_pos] ^= f->emu_xor;
    win_save(x, x->after);
    win_to_guest(x, x->before);
    physmem_write(&x->g.pm, x->insn_gpa, code, c.len + 1);
    dg_load(&x->g, c.gpr, c.rflags | RFLAGS_IF, x->insn_va);
    dg_load_xmm(&x->g, c.xmm);
    struct dg_result er;
    dg_run(&x->g, 64, 8, &er);
    win_from_guest(x, x->emu_mem);

    if (f->compat) {
        /* Only EAX..EDI exist in 32-bit code; upper halves are undefined across the switch. */
        for (unsigned i = 0; i < 16; i++) {
            uint64_t m = i < 8 ? 0xffffffffull : 0;
            nio.gpr[i] &= m;
            er.gpr[i] &= m;
            c.gpr[i] &= m;
        }
    }
    uint32_t fmask = (DF_ARITH | DF_DF) & ~undef_flags(f, &c);
    const char *why = NULL;
    if (nvec >= 0) {
        memcpy(nio.gpr, c.gpr, sizeof(nio.gpr));
        memcpy(nio.xmm, c.xmm, sizeof(nio.xmm));
        nio.rflags = c.rflags;
        if (er.vector != nvec)
            why = "exception differs";
        else if (nvec == 14 && er.cr2 != native_exec_fault_addr(x->nx))
            why = "CR2 differs from the host's fault address";
        else if ((er.rflags ^ c.rflags) & DF_ARITH)
            why = "flags changed by a faulting instruction";
        for (unsigned i = 0; !why && i < 16; i++)
            if (i != R_RSP && er.gpr[i] != nio.gpr[i])
                why = "registers changed by a faulting instruction";
        if (!why && memcmp(er.xmm, nio.xmm, sizeof(er.xmm)))
            why = "XMM registers changed by a faulting instruction";
        fmask &= DF_ARITH;
    } else if (!er.halted) {
        why = "hvemu did not reach the HLT after the instruction";
        st->not_halted[si]++;
    } else if (er.vector >= 0) {
        why = "hvemu raised an exception, the host did not";
        if (er.vector == 6)
            st->emu_ud[si]++;
        else
            st->emu_other_fault[si]++;
    } else if (er.rip != x->insn_va + c.len + 1) {
        why = "RIP differs";
    } else if (memcmp(nio.gpr, er.gpr, sizeof(nio.gpr))) {
        why = "registers differ";
    } else if (memcmp(nio.xmm, er.xmm, sizeof(nio.xmm))) {
        why = "XMM registers differ";
    } else if ((nio.rflags ^ er.rflags) & fmask) {
        why = "flags differ";
    }
    if (!why && memcmp(x->after, x->emu_mem, nvec < 0 ? WIN_SIZE : CMP_SIZE))
        why = "memory differs";
    if (!why && !f->compat && !f->emu_xor && idx % 8 == 5)
        why = replay(x, &c, &er, fmask);
    if (why) {
        report_mismatch(x, family, f, &c, idx, nvec, &nio, &er, fmask, why);
        st->fail[si]++;
        return false;
    }
    st->pass[si]++;
    return true;
}

static void print_stats(const char *family, const struct diff_form *f, const struct form_stats *st,
                        bool gated)
{
    printf("[diff] %-8s %-22s", family, f->name);
    if (f->emu_xor)
        printf(" [self-test: hvemu runs another opcode, mismatches expected]");
    if (gated) {
        printf(" skipped (host lacks %s)\n", native_feature_name((enum native_feature)f->feature));
        return;
    }
    for (unsigned s = 0; s < 4; s++) {
        if (!(f->sizes & (1u << s)))
            continue;
        unsigned tot = st->pass[s] + st->fail[s];
        printf(" %2u:%u/%u", 8u << s, st->pass[s], tot);
        /* Faults on the host are expected only for #DE forms; many elsewhere mean a bad
         * encoding in the table. */
        if (st->host_fault[s])
            printf("(host-faults=%u)", st->host_fault[s]);
        if (st->fail[s]) {
            printf("(FAIL");
            if (st->emu_ud[s])
                printf(" emu#UD=%u", st->emu_ud[s]);
            if (st->emu_other_fault[s])
                printf(" emu-fault=%u", st->emu_other_fault[s]);
            if (st->not_halted[s])
                printf(" no-HLT=%u", st->not_halted[s]);
            printf(")");
        }
    }
    printf("\n");
}

unsigned diff_run_family(const char *family, const struct diff_form *forms, unsigned n)
{
    struct diff_ctx *x = calloc(1, sizeof(*x));
    if (!x)
        return 1;
    x->seed = diff_seed();
    x->nx = native_exec_create(BUF_VA, BUF_SIZE);
    if (!x->nx || dg_init(&x->g, true)) {
        printf("[diff] %s: setup failed (native executor or test guest)\n", family);
        native_exec_destroy(x->nx);
        free(x);
        return 1;
    }
    x->buf = native_exec_data(x->nx);
    x->buf_va = (uint64_t)(uintptr_t)x->buf;
    x->buf_low = x->buf_va + BUF_SIZE <= 0x100000000ull;
    x->insn_va64 = native_exec_insn_va(x->nx);
    x->insn_va32 = native_exec_insn_va32(x->nx);
    x->buf_gpa = dg_map_va(&x->g, x->buf_va);
    x->insn_gpa64 = dg_map_va(&x->g, x->insn_va64);
    x->insn_gpa32 = x->insn_va32 ? dg_map_va(&x->g, x->insn_va32) : UINT64_MAX;
    unsigned fails = 0, forms_run = 0, forms_ok = 0, forms_gated = 0;
    if (x->buf_gpa == UINT64_MAX || x->insn_gpa64 == UINT64_MAX ||
        ((x->insn_va64 + 64) & ~0x1fffffull) != (x->insn_va64 & ~0x1fffffull)) {
        printf("[diff] %s: cannot map the host buffers into the guest\n", family);
        fails = 1;
        goto out;
    }
    const char *only = getenv("HVEMU_DIFF_FORM");
    unsigned cases = diff_cases();
    printf("[diff] family %s: seed=0x%" PRIx64 " cases per form and size=%u\n", family, x->seed, cases);
    for (unsigned i = 0; i < n; i++) {
        const struct diff_form *f = &forms[i];
        if (only && *only && !strstr(f->name, only))
            continue;
        struct form_stats st;
        memset(&st, 0, sizeof(st));
        x->dumps = 0;
        bool gated = !native_has_feature((enum native_feature)f->feature);
        unsigned fails_before = fails;
        if (f->compat && (!native_exec_compat_ok(x->nx) || x->insn_gpa32 == UINT64_MAX)) {
            printf("[diff] %-8s %-22s skipped (no 32-bit code below 4 GiB on this host)\n",
                   family, f->name);
            forms_gated++;
            continue;
        }
        for (unsigned s = 0; !gated && s < 4; s++)
            if (f->sizes & (1u << s))
                for (unsigned k = 0; k < cases; k++)
                    if (!run_case(x, family, f, 1u << s, k, &st))
                        fails++;
        print_stats(family, f, &st, gated);
        fflush(stdout);
        forms_gated += gated;
        forms_run += !gated;
        forms_ok += !gated && fails == fails_before;
    }
    printf("[diff] family %s: %u/%u forms agree with the host, %u skipped, %u mismatching cases\n",
           family, forms_ok, forms_run, forms_gated, fails);
    fflush(stdout);
out:
    dg_destroy(&x->g);
    native_exec_destroy(x->nx);
    free(x);
    return fails;
}
