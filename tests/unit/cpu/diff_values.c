/* Edge-value generators for the differential tests: integers of each size, float, double and
 * 80-bit extended specials, XMM contents, shift counts. */
#include "diff_case.h"

/* Edge values of an operand size, with random bits above it half of the time. */
uint64_t dv_value(uint64_t *r, unsigned size)
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
uint32_t dv_f32(uint64_t *r)
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

uint64_t dv_f64(uint64_t *r)
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
uint64_t dv_f80_mant(uint64_t *r)
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

uint64_t dv_f80_se(uint64_t *r)
{
    static const uint16_t pool[] = {0, 1, 0x3FFF, 0x3FFE, 0x4000, 0x403E, 0x403F, 0x7FFE, 0x7FFF,
                                    0x3FBF, 0x3C00, 0x43FF};
    uint64_t x = diff_rand(r);
    uint64_t e = (x & 1) ? pool[(x >> 8) % ARRAY_SIZE(pool)] : 0x3FFF + ((x >> 8) % 128) - 64;
    return e | ((x >> 40) & 1) << 15;
}

/* 16 bytes of XMM register or memory content for a form's lane type. */
void dv_xmm(uint64_t *r, unsigned lanes, uint64_t out[2])
{
    for (unsigned h = 0; h < 2; h++) {
        if (lanes == L_F32)
            out[h] = dv_f32(r) | (uint64_t)dv_f32(r) << 32;
        else if (lanes == L_F64)
            out[h] = dv_f64(r);
        else
            out[h] = dv_value(r, 8);
    }
}

unsigned dv_count(uint64_t *r, unsigned size, bool shxd16)
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
