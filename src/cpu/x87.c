/* x87 execution on the FXSAVE image in vcpu.fxsave (ST(i) kept in stack order at 32 + 16*i,
 * abridged tags by physical register, TOP in FSW): the escape opcodes D8-DF decoded from
 * opcode and ModRM (SDM Vol 2 Tables A-7..A-22), arithmetic from the softfloat library, stack
 * overflow/underflow with their masked responses, and deferred #MF via FSW.ES. */
#include <string.h>

#include "cpu/fpu/softfloat.h"
#include "cpu/ops_inline.h"
#include "cpu/x87.h"

enum { FSW_IE = 1, FSW_SF = 1 << 6, FSW_ES = 1 << 7, FSW_C0 = 1 << 8, FSW_C1 = 1 << 9,
       FSW_C2 = 1 << 10, FSW_C3 = 1 << 14, FSW_B = 1 << 15 };
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

static uint16_t fcw(const struct vcpu *vp) { return (uint16_t)load_sz(vp->fxsave, 2); }
static uint16_t fsw(const struct vcpu *vp) { return (uint16_t)load_sz(vp->fxsave + 2, 2); }
static void fsw_set(struct vcpu *vp, uint16_t v) { store_sz(vp->fxsave + 2, 2, v); }
static unsigned top(const struct vcpu *vp) { return (fsw(vp) >> 11) & 7; }

static void top_set(struct vcpu *vp, unsigned t)
{
    fsw_set(vp, (uint16_t)((fsw(vp) & ~0x3800u) | (t & 7) << 11));
}

static unsigned phys(const struct vcpu *vp, unsigned i) { return (top(vp) + i) & 7; }
static bool empty(const struct vcpu *vp, unsigned i) { return !((vp->fxsave[4] >> phys(vp, i)) & 1); }

static void tag(struct vcpu *vp, unsigned i, bool valid)
{
    uint8_t bit = (uint8_t)(1u << phys(vp, i));
    vp->fxsave[4] = valid ? (uint8_t)(vp->fxsave[4] | bit) : (uint8_t)(vp->fxsave[4] & ~bit);
}

static f80 st_get(const struct vcpu *vp, unsigned i)
{
    const uint8_t *p = vp->fxsave + 32 + 16 * (i & 7);
    return f80_make((uint16_t)load_sz(p + 8, 2), load_sz(p, 8));
}

static void st_put(struct vcpu *vp, unsigned i, f80 v)
{
    uint8_t *p = vp->fxsave + 32 + 16 * (i & 7);
    store_sz(p, 8, v.mant);
    store_sz(p + 8, 2, v.sign_exp);
    memset(p + 10, 0, 6);
    tag(vp, i, true);
}

/* Rotate the stack-ordered register image when TOP moves. */
static void rotate(struct vcpu *vp, bool push)
{
    uint8_t tmp[16], *st = vp->fxsave + 32;
    if (push) {
        memcpy(tmp, st + 7 * 16, 16);
        memmove(st + 16, st, 7 * 16);
        memcpy(st, tmp, 16);
        top_set(vp, top(vp) - 1);
    } else {
        memcpy(tmp, st, 16);
        memmove(st, st + 16, 7 * 16);
        memcpy(st + 7 * 16, tmp, 16);
        top_set(vp, top(vp) + 1);
    }
}

static void st_pop(struct vcpu *vp)
{
    tag(vp, 0, false);
    rotate(vp, false);
}

static sf_status status(const struct vcpu *vp)
{
    sf_status st = sf_status_default();
    uint16_t c = fcw(vp);
    st.masks = c & SF_ALL_EXC;
    st.rounding = (uint8_t)((c >> 10) & 3);
    st.precision = (uint8_t)((c >> 8) & 3);
    if (st.precision == 1)
        st.precision = SF_PREC_64;
    return st;
}

/* Fold exception flags into FSW; true when an unmasked one leaves the destination alone. */
static bool raise(struct vcpu *vp, const sf_status *st, bool c1)
{
    uint16_t w = fsw(vp) | (st->flags & SF_ALL_EXC);
    w = (uint16_t)((w & ~FSW_C1) | (c1 && st->c1 ? FSW_C1 : 0));
    bool unmasked = st->flags & ~st->masks & SF_ALL_EXC;
    if (unmasked)
        w |= FSW_ES | FSW_B;
    fsw_set(vp, w);
    return unmasked && (st->flags & ~st->masks & (SF_IE | SF_ZE | SF_DE));
}

static const f80 default_nan = {F80_DEFAULT_NAN_MANT, F80_DEFAULT_NAN_SE};

/* Stack fault (SDM Vol 1 8.5.1.1): IE|SF, C1 = overflow. Returns true when masked. */
static bool stack_fault(struct vcpu *vp, bool overflow)
{
    uint16_t w = (uint16_t)(fsw(vp) | FSW_IE | FSW_SF);
    w = (uint16_t)((w & ~FSW_C1) | (overflow ? FSW_C1 : 0));
    bool masked = fcw(vp) & SF_IE;
    if (!masked)
        w |= FSW_ES | FSW_B;
    fsw_set(vp, w);
    return masked;
}

static void st_push(struct vcpu *vp, f80 v)
{
    if (!empty(vp, 7)) {
        if (!stack_fault(vp, true))
            return;
        v = default_nan;
    }
    rotate(vp, true);
    st_put(vp, 0, v);
}

/* Read ST(i); on an empty register signal underflow and return false (masked: *v = NaN). */
static bool src(struct vcpu *vp, unsigned i, f80 *v, bool *masked)
{
    if (!empty(vp, i)) {
        *v = st_get(vp, i);
        return true;
    }
    *masked = stack_fault(vp, false);
    *v = default_nan;
    return false;
}

/* ---- arithmetic ---- */
enum { A_ADD, A_MUL, A_COM, A_COMP, A_SUB, A_SUBR, A_DIV, A_DIVR };

static f80 arith(unsigned op, f80 a, f80 b, sf_status *st)
{
    switch (op) {
    case A_ADD: return f80_add(a, b, st);
    case A_MUL: return f80_mul(a, b, st);
    case A_SUB: return f80_sub(a, b, st);
    case A_SUBR: return f80_sub(b, a, st);
    case A_DIV: return f80_div(a, b, st);
    default: return f80_div(b, a, st);
    }
}

static void set_cc(struct vcpu *vp, sf_cmp c)
{
    static const uint16_t cc[4] = {FSW_C0, FSW_C3, 0, FSW_C0 | FSW_C2 | FSW_C3};
    fsw_set(vp, (uint16_t)((fsw(vp) & ~FSW_CC) | cc[c]));
}

static void set_eflags(struct vcpu *vp, sf_cmp c)
{
    static const uint64_t fl[4] = {FL_CF, FL_ZF, 0, FL_ZF | FL_PF | FL_CF};
    flags_put_arith(vp, fl[c]);
    fsw_set(vp, (uint16_t)(fsw(vp) & ~FSW_C1));
}

/* dst = ST(d) op ST(s) (or with a memory operand in mem/bits); compare ops set condition
 * codes; npop pops afterwards. */
static void do_arith(struct vcpu *vp, unsigned op, unsigned d, unsigned s, bool is_mem,
                     uint64_t mem, int bits, bool intmem, unsigned npop, bool quiet)
{
    f80 a, b = default_nan;
    bool masked = true, ok = src(vp, d, &a, &masked);
    if (ok && !is_mem)
        ok = src(vp, s, &b, &masked);
    sf_status st = status(vp);
    bool cmp = op == A_COM || op == A_COMP;
    if (!ok) {
        if (!masked)
            return;
        if (cmp)
            set_cc(vp, SF_CMP_UN);
        else
            st_put(vp, d, default_nan);
    } else if (cmp) {
        sf_cmp c;
        if (is_mem && !intmem)
            c = f80_compare_mem(a, mem, bits, !quiet, &st);
        else
            c = f80_compare(a, is_mem ? i64_to_f80(sx(mem, (unsigned)bits / 8)) : b, !quiet, &st);
        if (!raise(vp, &st, false))
            set_cc(vp, c);
    } else {
        f80 r;
        if (is_mem && !intmem) {
            static const sf_x87_op mop[8] = {SF_X87_ADD, SF_X87_MUL, 0, 0, SF_X87_SUB,
                                              SF_X87_SUBR, SF_X87_DIV, SF_X87_DIVR};
            r = f80_arith_mem(mop[op], a, mem, bits, &st);
        } else {
            r = arith(op, a, is_mem ? i64_to_f80(sx(mem, (unsigned)bits / 8)) : b, &st);
        }
        if (raise(vp, &st, true))
            return;
        st_put(vp, d, r);
    }
    while (npop--)
        st_pop(vp);
}

/* ---- loads and stores ---- */
static void fld_mem(struct vcpu *vp, const struct insn *i, unsigned bytes, bool integer)
{
    gva_t la = lin_of(vp, i);
    sf_status st = status(vp);
    f80 v;
    if (integer) {
        v = i64_to_f80(sx(mem_rd(vp, i, la, bytes), bytes));
    } else if (bytes == 10) {
        uint64_t m = mem_rd(vp, i, la, 8);
        v = f80_make((uint16_t)mem_rd(vp, i, la + 8, 2), m);
    } else if (bytes == 8) {
        v = f64_to_f80(mem_rd(vp, i, la, 8), &st);
    } else {
        v = f32_to_f80((f32)mem_rd(vp, i, la, 4), &st);
    }
    if (raise(vp, &st, false))
        return;
    st_push(vp, v);
}

/* FST/FSTP/FIST/FISTP/FISTTP to memory; kind 0 float, 1 integer (rounded), 2 truncated. */
static void fst_mem(struct vcpu *vp, const struct insn *i, unsigned bytes, int kind, bool dopop)
{
    gva_t la = lin_of(vp, i);
    f80 a;
    bool masked = true;
    sf_status st = status(vp);
    uint64_t out;
    bool ok = src(vp, 0, &a, &masked);
    if (!ok && !masked)
        return;
    if (kind) {
        bool t = kind == 2;
        int64_t v = bytes == 2 ? f80_to_i16(a, t, &st) : bytes == 4 ? f80_to_i32(a, t, &st)
                                                                   : f80_to_i64(a, t, &st);
        if (!ok)
            v = bytes == 2 ? SF_INT16_INDEFINITE : bytes == 4 ? SF_INT32_INDEFINITE : SF_INT64_INDEFINITE;
        out = (uint64_t)v;
    } else if (bytes == 10) {
        mem_probe_write(vp, i, la, 10);
        mem_wr(vp, i, la, 8, a.mant);
        mem_wr(vp, i, la + 8, 2, a.sign_exp);
        if (dopop)
            st_pop(vp);
        return;
    } else {
        out = bytes == 8 ? f80_to_f64(a, &st) : f80_to_f32(a, &st);
    }
    if (ok && raise(vp, &st, true))
        return;
    mem_wr(vp, i, la, bytes, out);
    if (dopop)
        st_pop(vp);
}

/* ---- environment (32-bit protected-mode layout, SDM Vol 1 Figure 8-9) ---- */
static uint16_t full_tags(const struct vcpu *vp)
{
    uint16_t t = 0;
    for (unsigned p = 0; p < 8; p++) {
        unsigned v = 3; /* empty */
        if ((vp->fxsave[4] >> p) & 1) {
            f80 x = st_get(vp, (p - top(vp)) & 7);
            int c = f80_classify(x);
            v = c == SF_CLASS_ZERO ? 1 : (c == SF_CLASS_NORMAL ? 0 : 2);
        }
        t |= (uint16_t)(v << (2 * p));
    }
    return t;
}

static void fnstenv(struct vcpu *vp, const struct insn *i, gva_t la)
{
    uint32_t env[7] = {fcw(vp) | 0xffff0000u, fsw(vp) | 0xffff0000u, full_tags(vp) | 0xffff0000u,
                       0, 0, 0, 0xffff0000u};
    mem_write_buf(vp, i, la, env, sizeof(env));
}

static void fldenv(struct vcpu *vp, const struct insn *i, gva_t la)
{
    uint32_t env[7];
    mem_read_buf(vp, i, la, env, sizeof(env));
    store_sz(vp->fxsave, 2, env[0]);
    fsw_set(vp, (uint16_t)env[1]);
    uint8_t ab = 0;
    for (unsigned p = 0; p < 8; p++)
        if (((env[2] >> (2 * p)) & 3) != 3)
            ab |= (uint8_t)(1u << p);
    vp->fxsave[4] = ab;
    uint16_t w = fsw(vp);
    bool es = w & ~fcw(vp) & SF_ALL_EXC;
    fsw_set(vp, (uint16_t)(es ? w | FSW_ES | FSW_B : w & ~(FSW_ES | FSW_B)));
}

static void fninit(struct vcpu *vp)
{
    memset(vp->fxsave, 0, 24);
    store_sz(vp->fxsave, 2, 0x037f);
}

/* ---- register-form escapes ---- */
static int d9_reg(struct vcpu *vp, unsigned modrm)
{
    unsigned r = modrm & 7;
    f80 a;
    bool masked = true;
    sf_status st = status(vp);
    switch (modrm) {
    case 0xd0: return 0; /* FNOP */
    case 0xe0: /* FCHS */
    case 0xe1: /* FABS */
        if (src(vp, 0, &a, &masked))
            a.sign_exp = modrm == 0xe0 ? (uint16_t)(a.sign_exp ^ 0x8000) : (uint16_t)(a.sign_exp & 0x7fff);
        if (masked)
            st_put(vp, 0, a);
        fsw_set(vp, (uint16_t)(fsw(vp) & ~FSW_C1));
        return 0;
    case 0xe4: /* FTST */
        if (!src(vp, 0, &a, &masked)) {
            if (masked)
                set_cc(vp, SF_CMP_UN);
            return 0;
        }
        {
            sf_cmp c = f80_compare(a, f80_make(0, 0), true, &st);
            if (!raise(vp, &st, false))
                set_cc(vp, c);
        }
        return 0;
    case 0xe5: { /* FXAM */
        int c = empty(vp, 0) ? SF_CLASS_EMPTY : f80_classify(st_get(vp, 0));
        uint16_t w = (uint16_t)(fsw(vp) & ~FSW_CC);
        if (c & 1) w |= FSW_C0;
        if (c & 2) w |= FSW_C2;
        if (c & 4) w |= FSW_C3;
        if (st_get(vp, 0).sign_exp & 0x8000) w |= FSW_C1;
        fsw_set(vp, w);
        return 0;
    }
    case 0xe8: case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed: case 0xee: {
        static const int which[7] = {SF_CONST_ONE, SF_CONST_L2T, SF_CONST_L2E, SF_CONST_PI,
                                     SF_CONST_LG2, SF_CONST_LN2, SF_CONST_ZERO};
        st_push(vp, f80_load_const(which[modrm - 0xe8], &st));
        return 0;
    }
    case 0xf6: rotate(vp, true); return 0;  /* FDECSTP */
    case 0xf7: rotate(vp, false); return 0; /* FINCSTP */
    default: break;
    }
    if (modrm < 0xc8) { /* FLD st(i) */
        if (!src(vp, r, &a, &masked) && !masked)
            return 0;
        st_push(vp, a);
        return 0;
    }
    if (modrm < 0xd0) { /* FXCH */
        f80 b;
        bool ok0 = src(vp, 0, &a, &masked);
        bool ok = src(vp, r, &b, &masked) && ok0; /* both are examined (SDM FXCH) */
        if (!ok && !masked)
            return 0;
        st_put(vp, 0, b);
        st_put(vp, r, a);
        fsw_set(vp, (uint16_t)(fsw(vp) & ~FSW_C1));
        return 0;
    }
    /* Unary and binary specials on ST0 (and ST1). */
    bool two = modrm == 0xf1 || modrm == 0xf3 || modrm == 0xf5 || modrm == 0xf8 ||
               modrm == 0xf9 || modrm == 0xfd;
    f80 b = default_nan;
    bool ok = src(vp, 0, &a, &masked);
    if (ok && two)
        ok = src(vp, 1, &b, &masked);
    if (!ok) {
        if (masked && modrm != 0xf4 && modrm != 0xf2 && modrm != 0xfb)
            st_put(vp, two && (modrm == 0xf1 || modrm == 0xf3 || modrm == 0xf9) ? 1 : 0, default_nan);
        if (masked && (modrm == 0xf1 || modrm == 0xf3 || modrm == 0xf9))
            st_pop(vp);
        return 0;
    }
    bool oor = false;
    uint16_t cc = 0;
    f80 r1;
    switch (modrm) {
    case 0xf0: r1 = f80_f2xm1(a, &st); break;
    case 0xf1: r1 = f80_fyl2x(a, b, &st); break;
    case 0xf2: r1 = f80_tan(a, &oor, &st); break;
    case 0xf3: r1 = f80_atan2(b, a, &st); break;
    case 0xf4: { /* FXTRACT */
        f80 e, m;
        f80_fxtract(a, &e, &m, &st);
        if (raise(vp, &st, false))
            return 0;
        st_put(vp, 0, e);
        st_push(vp, m);
        return 0;
    }
    case 0xf5: r1 = f80_fprem(a, b, true, &cc, &st); break;
    case 0xf8: r1 = f80_fprem(a, b, false, &cc, &st); break;
    case 0xf9: r1 = f80_fyl2xp1(a, b, &st); break;
    case 0xfa: r1 = f80_sqrt(a, &st); break;
    case 0xfb: r1 = f80_sin(a, &oor, &st); break;
    case 0xfc: r1 = f80_round_int(a, &st); break;
    case 0xfd: r1 = f80_fscale(a, b, &st); break;
    case 0xfe: r1 = f80_sin(a, &oor, &st); break;
    default: r1 = f80_cos(a, &oor, &st); break;
    }
    if (oor) {
        fsw_set(vp, (uint16_t)(fsw(vp) | FSW_C2));
        return 0;
    }
    f80 c2 = default_nan;
    if (modrm == 0xfb)
        c2 = f80_cos(a, &oor, &st);
    if (raise(vp, &st, true))
        return 0;
    fsw_set(vp, (uint16_t)(fsw(vp) & ~FSW_C2));
    if (modrm == 0xf5 || modrm == 0xf8)
        fsw_set(vp, (uint16_t)((fsw(vp) & ~FSW_CC) | cc));
    if (modrm == 0xf1 || modrm == 0xf3 || modrm == 0xf9) {
        st_put(vp, 1, r1);
        st_pop(vp);
    } else {
        st_put(vp, 0, r1);
        if (modrm == 0xf2)
            st_push(vp, f80_load_const(SF_CONST_ONE, &st));
        else if (modrm == 0xfb)
            st_push(vp, c2);
    }
    return 0;
}

static bool fcmov_cond(struct vcpu *vp, unsigned opc, unsigned reg)
{
    static const uint8_t cc[4] = {CC_B, CC_Z, CC_BE, CC_P};
    bool t = cc_eval(vp, cc[reg & 3]);
    return opc == 0xda ? t : !t;
}

static int escape(struct vcpu *vp, const struct insn *i)
{
    unsigned opc = i->opc, modrm = i->modrm, reg = (modrm >> 3) & 7, r = modrm & 7;
    bool mem = (modrm >> 6) != 3;
    if (mem) {
        gva_t la = lin_of(vp, i);
        switch (opc) {
        case 0xd8: do_arith(vp, reg, 0, 0, true, mem_rd(vp, i, la, 4), 32, false, reg == A_COMP, false); return 0;
        case 0xdc: do_arith(vp, reg, 0, 0, true, mem_rd(vp, i, la, 8), 64, false, reg == A_COMP, false); return 0;
        case 0xda: do_arith(vp, reg, 0, 0, true, mem_rd(vp, i, la, 4), 32, true, reg == A_COMP, false); return 0;
        case 0xde: do_arith(vp, reg, 0, 0, true, mem_rd(vp, i, la, 2), 16, true, reg == A_COMP, false); return 0;
        case 0xd9:
            switch (reg) {
            case 0: fld_mem(vp, i, 4, false); return 0;
            case 2: fst_mem(vp, i, 4, 0, false); return 0;
            case 3: fst_mem(vp, i, 4, 0, true); return 0;
            case 4: fldenv(vp, i, la); return 0;
            case 5: {
                store_sz(vp->fxsave, 2, mem_rd(vp, i, la, 2));
                uint16_t w = fsw(vp);
                bool es = w & ~fcw(vp) & SF_ALL_EXC;
                fsw_set(vp, (uint16_t)(es ? w | FSW_ES | FSW_B : w & ~(FSW_ES | FSW_B)));
                return 0;
            }
            case 6: fnstenv(vp, i, la); return 0;
            case 7: mem_wr(vp, i, la, 2, fcw(vp)); return 0;
            default: return EXC_UD;
            }
        case 0xdb:
            switch (reg) {
            case 0: fld_mem(vp, i, 4, true); return 0;
            case 1: fst_mem(vp, i, 4, 2, true); return 0;
            case 2: fst_mem(vp, i, 4, 1, false); return 0;
            case 3: fst_mem(vp, i, 4, 1, true); return 0;
            case 5: fld_mem(vp, i, 10, false); return 0;
            case 7: fst_mem(vp, i, 10, 0, true); return 0;
            default: return EXC_UD;
            }
        case 0xdd:
            switch (reg) {
            case 0: fld_mem(vp, i, 8, false); return 0;
            case 1: fst_mem(vp, i, 8, 2, true); return 0;
            case 2: fst_mem(vp, i, 8, 0, false); return 0;
            case 3: fst_mem(vp, i, 8, 0, true); return 0;
            case 4: /* FRSTOR */
                fldenv(vp, i, la);
                for (unsigned k = 0; k < 8; k++) {
                    uint64_t m = mem_rd(vp, i, la + 28 + 10 * k, 8);
                    uint16_t se = (uint16_t)mem_rd(vp, i, la + 36 + 10 * k, 2);
                    uint8_t *p = vp->fxsave + 32 + 16 * k;
                    store_sz(p, 8, m);
                    store_sz(p + 8, 2, se);
                }
                return 0;
            case 6: /* FNSAVE */
                mem_probe_write(vp, i, la, 108);
                fnstenv(vp, i, la);
                for (unsigned k = 0; k < 8; k++) {
                    f80 v = st_get(vp, k);
                    mem_wr(vp, i, la + 28 + 10 * k, 8, v.mant);
                    mem_wr(vp, i, la + 36 + 10 * k, 2, v.sign_exp);
                }
                fninit(vp);
                return 0;
            case 7: mem_wr(vp, i, la, 2, fsw(vp)); return 0;
            default: return EXC_UD;
            }
        default: /* 0xdf */
            switch (reg) {
            case 0: fld_mem(vp, i, 2, true); return 0;
            case 1: fst_mem(vp, i, 2, 2, true); return 0;
            case 2: fst_mem(vp, i, 2, 1, false); return 0;
            case 3: fst_mem(vp, i, 2, 1, true); return 0;
            case 4: { /* FBLD */
                uint8_t bcd[10];
                mem_read_buf(vp, i, la, bcd, 10);
                st_push(vp, bcd_to_f80(bcd));
                return 0;
            }
            case 5: fld_mem(vp, i, 8, true); return 0;
            case 6: { /* FBSTP */
                f80 a;
                bool masked = true;
                uint8_t bcd[10];
                sf_status st = status(vp);
                if (!src(vp, 0, &a, &masked) && !masked)
                    return 0;
                f80_to_bcd(a, bcd, &st);
                if (raise(vp, &st, true))
                    return 0;
                mem_write_buf(vp, i, la, bcd, 10);
                st_pop(vp);
                return 0;
            }
            default: fst_mem(vp, i, 8, 1, true); return 0;
            }
        }
    }
    switch (opc) {
    case 0xd8:
        do_arith(vp, reg, 0, r, false, 0, 0, false, reg == A_COMP, false);
        return 0;
    case 0xdc: /* ST(i) = ST(i) op ST0: the SUB/DIV pairs swap their meaning here */
    case 0xde: {
        static const uint8_t rev[8] = {A_ADD, A_MUL, A_COM, A_COMP, A_SUBR, A_SUB, A_DIVR, A_DIV};
        if (opc == 0xde && modrm == 0xd9) {
            do_arith(vp, A_COMP, 0, 1, false, 0, 0, false, 2, false); /* FCOMPP */
            return 0;
        }
        if (reg == 2 || reg == 3) {
            do_arith(vp, reg, 0, r, false, 0, 0, false, reg == A_COMP, false);
            return 0;
        }
        /* ST(r) = ST(r) op ST0 with a = ST(r), b = ST0; E0/F0 are the reversed forms. */
        do_arith(vp, rev[reg], r, 0, false, 0, 0, false, opc == 0xde, false);
        return 0;
    }
    case 0xd9: return d9_reg(vp, modrm);
    case 0xda:
    case 0xdb:
        if (opc == 0xda && modrm == 0xe9) { /* FUCOMPP */
            do_arith(vp, A_COMP, 0, 1, false, 0, 0, false, 2, true);
            return 0;
        }
        if (opc == 0xdb && modrm == 0xe2) { /* FNCLEX */
            fsw_set(vp, (uint16_t)(fsw(vp) & 0x7f00));
            return 0;
        }
        if (opc == 0xdb && modrm == 0xe3) {
            fninit(vp);
            return 0;
        }
        if (opc == 0xdb && reg >= 5 && reg <= 6) { /* FUCOMI / FCOMI */
            f80 a, b;
            bool masked = true;
            if (!src(vp, 0, &a, &masked) || !src(vp, r, &b, &masked)) {
                if (masked)
                    set_eflags(vp, SF_CMP_UN);
                return 0;
            }
            sf_status st = status(vp);
            sf_cmp c = f80_compare(a, b, reg == 6, &st);
            if (!raise(vp, &st, false))
                set_eflags(vp, c);
            return 0;
        }
        if (reg < 4) { /* FCMOVcc */
            f80 b;
            bool masked = true;
            if (!src(vp, r, &b, &masked) && !masked)
                return 0;
            if (fcmov_cond(vp, opc, reg))
                st_put(vp, 0, b);
            return 0;
        }
        return EXC_UD;
    case 0xdd:
        switch (reg) {
        case 0: tag(vp, r, false); return 0; /* FFREE */
        case 2:
        case 3: { /* FST / FSTP st(i) */
            f80 a;
            bool masked = true;
            if (!src(vp, 0, &a, &masked) && !masked)
                return 0;
            st_put(vp, r, a);
            if (reg == 3)
                st_pop(vp);
            return 0;
        }
        case 4:
        case 5:
            do_arith(vp, A_COMP, 0, r, false, 0, 0, false, reg == 5, true); /* FUCOM(P) */
            return 0;
        default: return EXC_UD;
        }
    default: /* 0xdf */
        if (modrm == 0xe0) {
            wreg(vp, 0, 2, fsw(vp));
            return 0;
        }
        if (reg == 5 || reg == 6) { /* FUCOMIP / FCOMIP */
            f80 a, b;
            bool masked = true;
            if (!src(vp, 0, &a, &masked) || !src(vp, r, &b, &masked)) {
                if (masked) {
                    set_eflags(vp, SF_CMP_UN);
                    st_pop(vp);
                }
                return 0;
            }
            sf_status st = status(vp);
            sf_cmp c = f80_compare(a, b, reg == 6, &st);
            if (!raise(vp, &st, false)) {
                set_eflags(vp, c);
                st_pop(vp);
            }
            return 0;
        }
        return EXC_UD;
    }
}

/* Control instructions that never wait for a pending unmasked exception (the FN* forms). */
static bool no_wait(unsigned opc, unsigned modrm)
{
    unsigned reg = (modrm >> 3) & 7;
    bool mem = (modrm >> 6) != 3;
    if (opc == 0xdb && (modrm == 0xe2 || modrm == 0xe3))
        return true;
    if (opc == 0xdf && modrm == 0xe0)
        return true;
    if (mem && opc == 0xd9 && (reg == 6 || reg == 7))
        return true;
    return mem && opc == 0xdd && (reg == 6 || reg == 7);
}

int x87_exec(struct vcpu *vp, const struct insn *i)
{
    if (i->opc < 0xd8 || i->opc > 0xdf || (i->flags & IF_VEX))
        return -1;
    if (vp->cr0 & (CR0_EM | CR0_TS))
        return EXC_NM;
    if (!no_wait(i->opc, i->modrm)) {
        if (fsw(vp) & FSW_ES)
            return EXC_MF;
        /* C1 is 0 unless the instruction sets it (rounded up, stack overflow, sign). FLDCW,
         * FLDENV and FRSTOR load it instead. */
        unsigned reg = (i->modrm >> 3) & 7;
        bool mem = (i->modrm >> 6) != 3;
        bool loads_sw = mem && ((i->opc == 0xd9 && (reg == 4 || reg == 5)) || (i->opc == 0xdd && reg == 4));
        if (!loads_sw)
            fsw_set(vp, (uint16_t)(fsw(vp) & ~FSW_C1));
    }
    return escape(vp, i);
}
