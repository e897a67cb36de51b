/* x87 double-extended entry points and encoding classification (FXAM). */
#include "cpu/fpu/sf_internal.h"

#define FMT (&sf_fmt_f80)

f80 f80_add(f80 a, f80 b, sf_status *st) { return sf_add(FMT, a, b, false, st); }
f80 f80_sub(f80 a, f80 b, sf_status *st) { return sf_add(FMT, a, b, true, st); }
f80 f80_mul(f80 a, f80 b, sf_status *st) { return sf_mul(FMT, a, b, st); }
f80 f80_div(f80 a, f80 b, sf_status *st) { return sf_div(FMT, a, b, st); }
f80 f80_sqrt(f80 a, sf_status *st) { return sf_sqrt(FMT, a, st); }

static sf_val unpack_mem(uint64_t mem, int mem_bits)
{
    return mem_bits == 32 ? sf_unpack(&sf_fmt_f32, f80_make(0, (uint32_t)mem))
                          : sf_unpack(&sf_fmt_f64, f80_make(0, mem));
}

f80 f80_arith_mem(sf_x87_op op, f80 st0, uint64_t mem, int mem_bits, sf_status *st)
{
    sf_val a = sf_unpack(FMT, st0), m = unpack_mem(mem, mem_bits);
    switch (op) {
    case SF_X87_ADD: return sf_add_v(FMT, a, m, false, st);
    case SF_X87_SUB: return sf_add_v(FMT, a, m, true, st);
    case SF_X87_SUBR: return sf_add_v(FMT, m, a, true, st);
    case SF_X87_MUL: return sf_mul_v(FMT, a, m, st);
    case SF_X87_DIV: return sf_div_v(FMT, a, m, st);
    default: return sf_div_v(FMT, m, a, st);
    }
}

sf_cmp f80_compare_mem(f80 st0, uint64_t mem, int mem_bits, bool signaling, sf_status *st)
{
    return sf_compare_v(sf_unpack(FMT, st0), unpack_mem(mem, mem_bits), signaling, st);
}

int f80_classify(f80 a)
{
    sf_val v = sf_unpack(FMT, a);
    switch (v.cls) {
    case CLS_ZERO: return SF_CLASS_ZERO;
    case CLS_INF: return SF_CLASS_INFINITY;
    case CLS_QNAN:
    case CLS_SNAN: return SF_CLASS_NAN;
    case CLS_UNSUPPORTED: return SF_CLASS_UNSUPPORTED;
    default: return v.denormal ? SF_CLASS_DENORMAL : SF_CLASS_NORMAL;
    }
}

bool f80_is_nan(f80 a)
{
    sf_val v = sf_unpack(FMT, a);
    return sf_is_nan(&v);
}

bool f80_is_signaling_nan(f80 a) { return sf_unpack(FMT, a).cls == CLS_SNAN; }

bool f80_is_unsupported(f80 a) { return sf_unpack(FMT, a).cls == CLS_UNSUPPORTED; }
