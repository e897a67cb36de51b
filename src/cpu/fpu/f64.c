/* SSE scalar single/double-precision entry points (first operand = first source). */
#include "cpu/fpu/sf_internal.h"

#define FMT (&sf_fmt_f64)
#define B(x) bits_of_f64(x)

f64 f64_add(f64 a, f64 b, sf_status *st) { return sf_add(FMT, B(a), B(b), false, st).mant; }
f64 f64_sub(f64 a, f64 b, sf_status *st) { return sf_add(FMT, B(a), B(b), true, st).mant; }
f64 f64_mul(f64 a, f64 b, sf_status *st) { return sf_mul(FMT, B(a), B(b), st).mant; }
f64 f64_div(f64 a, f64 b, sf_status *st) { return sf_div(FMT, B(a), B(b), st).mant; }
f64 f64_sqrt(f64 a, sf_status *st) { return sf_sqrt(FMT, B(a), st).mant; }

bool f64_is_nan(f64 a)
{
    sf_val v = sf_unpack(FMT, B(a));
    return sf_is_nan(&v);
}
