/* Private to src/cpu/fpu: the 128-bit-significand working format of the transcendentals. */
#ifndef HVEMU_CPU_FPU_XFLOAT_H
#define HVEMU_CPU_FPU_XFLOAT_H

#include "cpu/fpu/sf_internal.h"

/* value = (-1)^sign * m/2^127 * 2^exp; m normalised (bit 127 set) or zero. */
typedef struct xf {
    bool sign;
    int32_t exp;
    u128 m;
} xf;

static inline bool xf_is_zero(xf a) { return u128_is_zero(a.m); }

xf xf_norm(bool sign, int32_t exp, u128 m);
xf xf_from_int(int64_t v);
xf xf_from_val(const sf_val *v); /* finite values; anything else gives zero */
xf xf_const(uint64_t hi, uint64_t lo, int32_t exp);
xf xf_neg(xf a);
xf xf_scale(xf a, int32_t n); /* a * 2^n */
xf xf_add(xf a, xf b);
xf xf_sub(xf a, xf b);
xf xf_mul(xf a, xf b);
xf xf_div(xf a, xf b);
xf xf_div_int(xf a, int64_t n);
xf xf_sqrt(xf a);
int xf_cmp_abs(xf a, xf b);
f80 xf_to_f80(xf a, sf_status *st); /* round with the caller's mode, 64-bit precision; PE */

#endif
