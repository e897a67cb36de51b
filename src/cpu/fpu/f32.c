/* SSE scalar single/double-precision entry points (first operand = first source). */
#include "cpu/fpu/sf_internal.h"

#define FMT (&sf_fmt_f32)
#define B(x) bits_of_f32(x)

f32 f32_add(f32 a, f32 b, sf_status *st) { return (f32)sf_add(FMT, B(a), B(b), false, st).mant; }
f32 f32_sub(f32 a, f32 b, sf_status *st) { return (f32)sf_add(FMT, B(a), B(b), true, st).mant; }
f32 f32_mul(f32 a, f32 b, sf_status *st) { return (f32)sf_mul(FMT, B(a), B(b), st).mant; }
f32 f32_div(f32 a, f32 b, sf_status *st) { return (f32)sf_div(FMT, B(a), B(b), st).mant; }
f32 f32_sqrt(f32 a, sf_status *st) { return (f32)sf_sqrt(FMT, B(a), st).mant; }

bool f32_is_nan(f32 a)
{
    sf_val v = sf_unpack(FMT, B(a));
    return sf_is_nan(&v);
}
