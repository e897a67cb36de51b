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
/* FLDCW, FLDENV, FRSTOR: reserved bits 7 and 13-15 read back as 0 and bit 6 as 1 (as the
 * host's FNSTCW shows after FLDCW FFFFH: 1F7FH, and after FLDCW 0: 0040H). */
static void fcw_load(struct vcpu *vp, uint16_t v) { store_sz(vp->fxsave, 2, (v & 0x1f3fu) | 0x40u); }
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
        /* SDM Vol 1 8.5.1.2: an unmasked invalid operand leaves TOP alone (no pop); the
         * condition codes still say "unordered", as the host shows. */
        bool stop = raise(vp, &st, false);
        set_cc(vp, c);
        if (stop)
            return;
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
        /* SDM Vol 1 4.9.2: an unmasked numeric overflow or underflow on a store to memory
         * stores nothing and leaves the stack alone; only OE/UE are reported (the host
         * shows no PE with them). */
        if (ok && (st.flags & ~st.masks & (SF_OE | SF_UE))) {
            st.flags &= (uint8_t)~SF_PE;
            raise(vp, &st, false);
            return;
        }
    }
    if (ok && raise(vp, &st, true))
        return;
    mem_wr(vp, i, la, bytes, out);
    if (dopop)
        st_pop(vp);
}

/* ---- instruction/operand pointers and the environment ----
 * The image keeps bytes 0-23 in the 32-bit FXSAVE layout (FOP at 6, FIP at 8, FCS at 12, FDP
 * at 16, FDS at 20) and the upper halves of the 64-bit FIP and FDP in the software bytes
 * 464-471, which FXSAVE never writes. CPUID.7.0:EBX[13] (FCS/FDS deprecated) is not
 * advertised, so the selectors are kept as a P6 keeps them; nor is EBX[6] (FDP_EXCPTN_ONLY):
 * FDP follows every x87 memory operand (SDM Vol 1 8.1.8). */
static uint64_t ptr_get(const struct vcpu *vp, unsigned off)
{
    unsigned hi = off == X87_FIP ? X87_FIP_HI : X87_FDP_HI;
    return load_sz(vp->fxsave + off, 4) | load_sz(vp->fxsave + hi, 4) << 32;
}

static void ptr_put(struct vcpu *vp, unsigned off, uint64_t v)
{
    store_sz(vp->fxsave + off, 4, (uint32_t)v);
    store_sz(vp->fxsave + (off == X87_FIP ? X87_FIP_HI : X87_FDP_HI), 4, v >> 32);
}

static uint16_t sel_get(const struct vcpu *vp, unsigned off) { return (uint16_t)load_sz(vp->fxsave + off, 2); }
static void sel_put(struct vcpu *vp, unsigned off, uint16_t v) { store_sz(vp->fxsave + off, 4, v); }

/* SDM Vol 1 8.1.8-8.1.10: after a non-control instruction, FIP/FCS = its address (prefixes
 * included), FOP = low 3 bits of the escape byte and ModRM, FDP/FDS = its memory operand. */
static void record_ptrs(struct vcpu *vp, const struct insn *i)
{
    uint64_t ip = next_ip(vp, i) - i->len;
    ptr_put(vp, X87_FIP, vp->mode == MODE_64 ? ip : (uint32_t)ip);
    sel_put(vp, X87_FCS, vp->seg[SEG_CS].sel);
    store_sz(vp->fxsave + 6, 2, (i->opc & 7u) << 8 | i->modrm);
    if ((i->modrm >> 6) != 3) {
        ptr_put(vp, X87_FDP, ea_of(vp, i));
        sel_put(vp, X87_FDS, i->seg < SEG_COUNT ? vp->seg[i->seg].sel : 0);
    }
}

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

static bool real_or_v86(const struct vcpu *vp) { return !(vp->cr0 & CR0_PE) || (vp->rflags & FL_VM); }

/* Environment size in bytes: 14 with a 16-bit operand size, else 28. */
static unsigned env_size(const struct insn *i) { return i->opsz == 2 ? 14u : 28u; }

/* FNSTENV image (SDM Vol 1 Figures 8-9 to 8-12): protected mode stores offsets and
 * selectors; real and virtual-8086 mode store linear pointers (selector * 16 + offset) with
 * FOP beside the upper pointer bits. Reserved upper halves of 32-bit fields read as 1s. */
static void env_image(const struct vcpu *vp, bool o16, uint8_t *b)
{
    uint32_t fip = (uint32_t)ptr_get(vp, X87_FIP), fdp = (uint32_t)ptr_get(vp, X87_FDP);
    uint16_t fcs = sel_get(vp, X87_FCS), fds = sel_get(vp, X87_FDS);
    uint16_t fop = (uint16_t)(load_sz(vp->fxsave + 6, 2) & 0x7ff);
    uint16_t w[3] = {fcw(vp), fsw(vp), full_tags(vp)};
    bool real = real_or_v86(vp);
    uint32_t lip = fip + ((uint32_t)fcs << 4), ldp = fdp + ((uint32_t)fds << 4);
    if (o16) {
        uint16_t v[7] = {w[0], w[1], w[2], (uint16_t)fip, fcs, (uint16_t)fdp, fds};
        if (real) {
            v[3] = (uint16_t)lip;
            v[4] = (uint16_t)(((lip >> 16) & 0xf) << 12 | fop);
            v[5] = (uint16_t)ldp;
            v[6] = (uint16_t)(((ldp >> 16) & 0xf) << 12);
        }
        for (unsigned k = 0; k < 7; k++)
            store_sz(b + 2 * k, 2, v[k]);
        return;
    }
    uint32_t v[7] = {w[0] | 0xffff0000u, w[1] | 0xffff0000u, w[2] | 0xffff0000u, fip,
                     fcs | (uint32_t)fop << 16, fdp, fds | 0xffff0000u};
    if (real) {
        v[3] = (lip & 0xffff) | 0xffff0000u;
        v[4] = (lip >> 16) << 12 | fop;
        v[5] = (ldp & 0xffff) | 0xffff0000u;
        v[6] = (ldp >> 16) << 12;
    }
    for (unsigned k = 0; k < 7; k++)
        store_sz(b + 4 * k, 4, v[k]);
}

static void fnstenv(struct vcpu *vp, const struct insn *i, gva_t la)
{
    uint8_t b[28];
    env_image(vp, i->opsz == 2, b);
    mem_write_buf(vp, i, la, b, env_size(i));
    /* SDM FSTENV/FNSTENV: after saving, all floating-point exceptions are masked. */
    fcw_load(vp, fcw(vp) | 0x3fu);
}

/* FLDENV: the inverse of env_image. A real-mode image holds linear pointers: they load as
 * offsets with zero selectors, so a later FNSTENV in the same mode gives them back. The
 * 16-bit protected-mode form has no FOP: it loads as 0. */
static void env_load(struct vcpu *vp, bool o16, const uint8_t *b)
{
    uint32_t f[7];
    for (unsigned k = 0; k < 7; k++)
        f[k] = (uint32_t)load_sz(b + (o16 ? 2 * k : 4 * k), o16 ? 2 : 4);
    uint32_t fip, fdp, fcs = 0, fds = 0, fop;
    if (real_or_v86(vp)) {
        uint32_t hi = o16 ? 0xf : 0xffff;
        fip = (f[3] & 0xffff) | ((f[4] >> 12) & hi) << 16;
        fdp = (f[5] & 0xffff) | ((f[6] >> 12) & hi) << 16;
        fop = f[4] & 0x7ff;
    } else {
        fip = f[3];
        fdp = f[5];
        fcs = f[4] & 0xffff;
        fds = f[6] & 0xffff;
        fop = o16 ? 0 : (f[4] >> 16) & 0x7ff;
    }
    fcw_load(vp, (uint16_t)f[0]);
    fsw_set(vp, (uint16_t)f[1]);
    uint8_t ab = 0;
    for (unsigned p = 0; p < 8; p++)
        if (((f[2] >> (2 * p)) & 3) != 3)
            ab |= (uint8_t)(1u << p);
    vp->fxsave[4] = ab;
    store_sz(vp->fxsave + 6, 2, fop);
    ptr_put(vp, X87_FIP, fip);
    ptr_put(vp, X87_FDP, fdp);
    sel_put(vp, X87_FCS, (uint16_t)fcs);
    sel_put(vp, X87_FDS, (uint16_t)fds);
    uint16_t w = fsw(vp);
    bool es = w & ~fcw(vp) & SF_ALL_EXC;
    fsw_set(vp, (uint16_t)(es ? w | FSW_ES | FSW_B : w & ~(FSW_ES | FSW_B)));
}

static void fldenv(struct vcpu *vp, const struct insn *i, gva_t la)
{
    uint8_t b[28];
    mem_read_buf(vp, i, la, b, env_size(i));
    env_load(vp, i->opsz == 2, b);
}

static void fninit(struct vcpu *vp)
{
    memset(vp->fxsave, 0, 24);
    memset(vp->fxsave + X87_FIP_HI, 0, 8);
    store_sz(vp->fxsave, 2, 0x037f);
}

/* FXSAVE/XSAVE bytes 0-23 (SDM Vol 1 Tables 10-2, 10-3): the 64-bit layout holds 64-bit FIP
 * and FDP and no selectors; the 32-bit layout is the image's own. */
void x87_legacy_save(const struct vcpu *vp, uint8_t out[24], bool rex_w)
{
    memcpy(out, vp->fxsave, 24);
    if (rex_w) {
        store_sz(out + 8, 8, ptr_get(vp, X87_FIP));
        store_sz(out + 16, 8, ptr_get(vp, X87_FDP));
    }
}

void x87_legacy_load(struct vcpu *vp, const uint8_t in[24], bool rex_w)
{
    memcpy(vp->fxsave, in, 24);
    memset(vp->fxsave + X87_FIP_HI, 0, 8);
    if (rex_w) {
        ptr_put(vp, X87_FIP, load_sz(in + 8, 8));
        ptr_put(vp, X87_FDP, load_sz(in + 16, 8));
        sel_put(vp, X87_FCS, 0);
        sel_put(vp, X87_FDS, 0);
    }
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
    /* FPTAN, FSINCOS and FXTRACT leave two results: an empty ST0 (underflow) or a full
     * stack (overflow) is a stack fault before anything is computed, whose masked response
     * is the default NaN in both (as the host shows). */
    if ((modrm == 0xf2 || modrm == 0xfb || modrm == 0xf4) && (empty(vp, 0) || !empty(vp, 7))) {
        if (stack_fault(vp, !empty(vp, 0))) {
            st_put(vp, 0, default_nan);
            rotate(vp, true);
            st_put(vp, 0, default_nan);
        }
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
        /* FPTAN pushes 1.0, or for a NaN result (NaN or invalid operand) the NaN again,
         * as the host does. */
        bool nan = (r1.sign_exp & 0x7fff) == 0x7fff && (r1.mant << 1) != 0;
        if (modrm == 0xf2)
            st_push(vp, nan ? r1 : f80_load_const(SF_CONST_ONE, &st));
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
                fcw_load(vp, (uint16_t)mem_rd(vp, i, la, 2));
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
            case 4: { /* FRSTOR: environment, then ST0-ST7 in stack order */
                unsigned es = env_size(i);
                uint8_t b[28 + 80];
                mem_read_buf(vp, i, la, b, es + 80);
                env_load(vp, i->opsz == 2, b);
                for (unsigned k = 0; k < 8; k++) {
                    uint8_t *p = vp->fxsave + 32 + 16 * k;
                    memcpy(p, b + es + 10 * k, 10);
                    memset(p + 10, 0, 6);
                }
                return 0;
            }
            case 6: { /* FNSAVE: 94 or 108 bytes, then FNINIT */
                unsigned es = env_size(i);
                uint8_t b[28 + 80];
                env_image(vp, i->opsz == 2, b);
                for (unsigned k = 0; k < 8; k++)
                    memcpy(b + es + 10 * k, vp->fxsave + 32 + 16 * k, 10);
                mem_write_buf(vp, i, la, b, es + 80);
                fninit(vp);
                return 0;
            }
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

/* SDM Vol 1 8.1.8: the control instructions leave FIP/FDP/FOP alone: the no-wait forms
 * above, FLDCW, FLDENV and FRSTOR (FNINIT clears them itself; FWAIT runs in simd.c). */
static bool is_control(unsigned opc, unsigned modrm)
{
    unsigned reg = (modrm >> 3) & 7;
    bool mem = (modrm >> 6) != 3;
    if (no_wait(opc, modrm))
        return true;
    return mem && ((opc == 0xd9 && (reg == 4 || reg == 5)) || (opc == 0xdd && reg == 4));
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
    int v = escape(vp, i);
    /* Recorded once the instruction has run (a fault leaves the old pointers), by the x87
     * handlers only, so nothing else pays for it. */
    if (v == 0 && !is_control(i->opc, i->modrm))
        record_ptrs(vp, i);
    return v;
}
