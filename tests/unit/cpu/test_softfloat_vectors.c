/* Table vectors for the softfloat (portable: run on every host). Expected results and flags
 * were produced by a real x86-64 CPU (SSE and x87, including unmasked x87 OE/UE responses read
 * back after FNCLEX), so they pin x86 behaviour on hosts that cannot run the differential tests.
 * Transcendental rows are only those where the host and softfloat agree bit for bit. */
#include <criterion/criterion.h>

#include "test_softfloat_gen.h"

typedef struct vec {
    const char *op;
    uint16_t ahi;
    uint64_t alo;
    uint16_t bhi;
    uint64_t blo;
    uint16_t ctrl; /* MXCSR for SSE ops, FCW for x87 ops */
    uint16_t r0hi;
    uint64_t r0lo;
    uint16_t r1hi;
    uint64_t r1lo;
    uint64_t i;
    uint16_t sw; /* exception flags, plus C0-C3 for the x87 ops that define them */
} vec;

static const vec vectors[] = {
    { "addss", 0, 0x3f800000ull, 0, 0x33800000ull, 0x1f80, 0, 0x3f800000ull, 0, 0, 0, 0x20 },
    { "addss", 0, 0x3f800000ull, 0, 0x33800000ull, 0x5f80, 0, 0x3f800001ull, 0, 0, 0, 0x20 },
    { "addss", 0, 0x3f800001ull, 0, 0x33800000ull, 0x1f80, 0, 0x3f800002ull, 0, 0, 0, 0x20 },
    { "addss", 0, 0x7f7fffffull, 0, 0x7f7fffffull, 0x1f80, 0, 0x7f800000ull, 0, 0, 0, 0x28 },
    { "addss", 0, 0x7f7fffffull, 0, 0x7f7fffffull, 0x7f80, 0, 0x7f7fffffull, 0, 0, 0, 0x28 },
    { "addss", 0, 0xff7fffffull, 0, 0xff7fffffull, 0x5f80, 0, 0xff7fffffull, 0, 0, 0, 0x28 },
    { "addss", 0, 0xff7fffffull, 0, 0xff7fffffull, 0x3f80, 0, 0xff800000ull, 0, 0, 0, 0x28 },
    { "addss", 0, 0x7fa00001ull, 0, 0x3f800000ull, 0x1f80, 0, 0x7fe00001ull, 0, 0, 0, 0x1 },
    { "addss", 0, 0x7fc00002ull, 0, 0x7fa00003ull, 0x1f80, 0, 0x7fc00002ull, 0, 0, 0, 0x1 },
    { "addss", 0, 0x3f800000ull, 0, 0xffa00001ull, 0x1f80, 0, 0xffe00001ull, 0, 0, 0, 0x1 },
    { "addss", 0, 0x7f800000ull, 0, 0xff800000ull, 0x1f80, 0, 0xffc00000ull, 0, 0, 0, 0x1 },
    { "addss", 0, 0x3f800000ull, 0, 0xbf800000ull, 0x1f80, 0, 0ull, 0, 0, 0, 0 },
    { "addss", 0, 0x3f800000ull, 0, 0xbf800000ull, 0x3f80, 0, 0x80000000ull, 0, 0, 0, 0 },
    { "addss", 0, 0x1ull, 0, 0x1ull, 0x1f80, 0, 0x2ull, 0, 0, 0, 0x2 },
    { "addss", 0, 0x400000ull, 0, 0x400000ull, 0x1fc0, 0, 0ull, 0, 0, 0, 0 },
    { "addss", 0, 0x400000ull, 0, 0x400000ull, 0x9f80, 0, 0x800000ull, 0, 0, 0, 0x2 },
    { "subss", 0, 0x800000ull, 0, 0x1ull, 0x9f80, 0, 0ull, 0, 0, 0, 0x32 },
    { "subss", 0, 0x80000000ull, 0, 0ull, 0x1f80, 0, 0x80000000ull, 0, 0, 0, 0 },
    { "mulss", 0, 0x800000ull, 0, 0x3f7fffffull, 0x1f80, 0, 0x800000ull, 0, 0, 0, 0x30 },
    { "mulss", 0, 0x800001ull, 0, 0x3f7fffffull, 0x1f80, 0, 0x800000ull, 0, 0, 0, 0x20 },
    { "mulss", 0, 0x800000ull, 0, 0x3f000000ull, 0x1f80, 0, 0x400000ull, 0, 0, 0, 0 },
    { "mulss", 0, 0x800000ull, 0, 0x3f000000ull, 0x9f80, 0, 0ull, 0, 0, 0, 0x30 },
    { "mulss", 0, 0x800001ull, 0, 0x3f000000ull, 0x1f80, 0, 0x400000ull, 0, 0, 0, 0x30 },
    { "mulss", 0, 0x7f800000ull, 0, 0ull, 0x1f80, 0, 0xffc00000ull, 0, 0, 0, 0x1 },
    { "mulss", 0, 0x1ull, 0, 0x7f800000ull, 0x1f80, 0, 0x7f800000ull, 0, 0, 0, 0x2 },
    { "divss", 0, 0x3f800000ull, 0, 0ull, 0x1f80, 0, 0x7f800000ull, 0, 0, 0, 0x4 },
    { "divss", 0, 0ull, 0, 0ull, 0x1f80, 0, 0xffc00000ull, 0, 0, 0, 0x1 },
    { "divss", 0, 0x3f800000ull, 0, 0x40400000ull, 0x1f80, 0, 0x3eaaaaabull, 0, 0, 0, 0x20 },
    { "divss", 0, 0x3f800000ull, 0, 0x40400000ull, 0x5f80, 0, 0x3eaaaaabull, 0, 0, 0, 0x20 },
    { "divss", 0, 0x7f800000ull, 0, 0x7f800000ull, 0x1f80, 0, 0xffc00000ull, 0, 0, 0, 0x1 },
    { "divss", 0, 0x7fc00001ull, 0, 0ull, 0x1f80, 0, 0x7fc00001ull, 0, 0, 0, 0 },
    { "divss", 0, 0x1ull, 0, 0ull, 0x1f80, 0, 0x7f800000ull, 0, 0, 0, 0x4 },
    { "sqrtss", 0, 0ull, 0, 0xbf800000ull, 0x1f80, 0, 0xffc00000ull, 0, 0, 0, 0x1 },
    { "sqrtss", 0, 0ull, 0, 0x80000000ull, 0x1f80, 0, 0x80000000ull, 0, 0, 0, 0 },
    { "sqrtss", 0, 0ull, 0, 0x40800000ull, 0x1f80, 0, 0x40000000ull, 0, 0, 0, 0 },
    { "sqrtss", 0, 0ull, 0, 0x40000000ull, 0x5f80, 0, 0x3fb504f4ull, 0, 0, 0, 0x20 },
    { "sqrtss", 0, 0ull, 0, 0x1ull, 0x1f80, 0, 0x1a3504f3ull, 0, 0, 0, 0x22 },
    { "sqrtss", 0, 0ull, 0, 0xff800000ull, 0x1f80, 0, 0xffc00000ull, 0, 0, 0, 0x1 },
    { "minss", 0, 0x7fc00000ull, 0, 0x3f800000ull, 0x1f80, 0, 0x3f800000ull, 0, 0, 0, 0x1 },
    { "minss", 0, 0x3f800000ull, 0, 0x7fa00000ull, 0x1f80, 0, 0x7fa00000ull, 0, 0, 0, 0x1 },
    { "minss", 0, 0ull, 0, 0x80000000ull, 0x1f80, 0, 0x80000000ull, 0, 0, 0, 0 },
    { "maxss", 0, 0x80000000ull, 0, 0ull, 0x1f80, 0, 0ull, 0, 0, 0, 0 },
    { "minss", 0, 0x1ull, 0, 0x3f800000ull, 0x1fc0, 0, 0ull, 0, 0, 0, 0 },
    { "maxss", 0, 0x3f800000ull, 0, 0x80000001ull, 0x1fc0, 0, 0x3f800000ull, 0, 0, 0, 0 },
    { "maxss", 0, 0x7fc00000ull, 0, 0x80000001ull, 0x1fc0, 0, 0x80000000ull, 0, 0, 0, 0x1 },
    { "cvtss2si32", 0, 0x4f000000ull, 0, 0ull, 0x1f80, 0, 0xffffffff80000000ull, 0, 0, 0, 0x1 },
    { "cvtss2si32", 0, 0xcf000000ull, 0, 0ull, 0x1f80, 0, 0xffffffff80000000ull, 0, 0, 0, 0 },
    { "cvtss2si32", 0, 0x3fc00000ull, 0, 0ull, 0x1f80, 0, 0x2ull, 0, 0, 0, 0x20 },
    { "cvtss2si32", 0, 0x3fc00000ull, 0, 0ull, 0x7f80, 0, 0x1ull, 0, 0, 0, 0x20 },
    { "cvtss2si32", 0, 0xbfc00000ull, 0, 0ull, 0x3f80, 0, 0xfffffffffffffffeull, 0, 0, 0, 0x20 },
    { "cvtss2si32", 0, 0x7fc00000ull, 0, 0ull, 0x1f80, 0, 0xffffffff80000000ull, 0, 0, 0, 0x1 },
    { "cvtss2si32", 0, 0x1ull, 0, 0ull, 0x1f80, 0, 0ull, 0, 0, 0, 0x20 },
    { "cvttss2si64", 0, 0x5f000000ull, 0, 0ull, 0x1f80, 0, 0x8000000000000000ull, 0, 0, 0, 0x1 },
    { "cvttss2si64", 0, 0xdf000000ull, 0, 0ull, 0x1f80, 0, 0x8000000000000000ull, 0, 0, 0, 0 },
    { "cvttss2si32", 0, 0xbf7fffffull, 0, 0ull, 0x1f80, 0, 0ull, 0, 0, 0, 0x20 },
    { "cvtsi2ss32", 0, 0x7fffffffull, 0, 0ull, 0x1f80, 0, 0x4f000000ull, 0, 0, 0, 0x20 },
    { "cvtsi2ss32", 0, 0x7fffffffull, 0, 0ull, 0x7f80, 0, 0x4effffffull, 0, 0, 0, 0x20 },
    { "cvtsi2ss64", 0, 0x8000000000000000ull, 0, 0ull, 0x1f80, 0, 0xdf000000ull, 0, 0, 0, 0 },
    { "cvtsi2ss64", 0, 0x7fffff7fffffffffull, 0, 0ull, 0x1f80, 0, 0x5effffffull, 0, 0, 0, 0x20 },
    { "cvtsi2sd64", 0, 0x7fffffffffffffffull, 0, 0ull, 0x3f80, 0, 0x43dfffffffffffffull, 0, 0, 0, 0x20 },
    { "cvtsd2ss", 0, 0x36a0000000000000ull, 0, 0ull, 0x1f80, 0, 0x1ull, 0, 0, 0, 0 },
    { "cvtsd2ss", 0, 0x3690000000000000ull, 0, 0ull, 0x1f80, 0, 0ull, 0, 0, 0, 0x30 },
    { "cvtsd2ss", 0, 0x3690000000000000ull, 0, 0ull, 0x5f80, 0, 0x1ull, 0, 0, 0, 0x30 },
    { "cvtsd2ss", 0, 0x7ff4000000000001ull, 0, 0ull, 0x1f80, 0, 0x7fe00000ull, 0, 0, 0, 0x1 },
    { "cvtsd2ss", 0, 0x47efffffffffffffull, 0, 0ull, 0x1f80, 0, 0x7f800000ull, 0, 0, 0, 0x28 },
    { "cvtsd2ss", 0, 0x47efffffffffffffull, 0, 0ull, 0x7f80, 0, 0x7f7fffffull, 0, 0, 0, 0x20 },
    { "cvtss2sd", 0, 0x1ull, 0, 0ull, 0x1f80, 0, 0x36a0000000000000ull, 0, 0, 0, 0x2 },
    { "cvtss2sd", 0, 0x7fa00000ull, 0, 0ull, 0x1f80, 0, 0x7ffc000000000000ull, 0, 0, 0, 0x1 },
    { "cvtss2sd", 0, 0x1ull, 0, 0ull, 0x1fc0, 0, 0ull, 0, 0, 0, 0 },
    { "comiss", 0, 0x7fc00000ull, 0, 0x3f800000ull, 0x1f80, 0, 0x3ull, 0, 0, 0, 0x1 },
    { "ucomiss", 0, 0x7fc00000ull, 0, 0x3f800000ull, 0x1f80, 0, 0x3ull, 0, 0, 0, 0 },
    { "ucomiss", 0, 0x7fa00000ull, 0, 0x3f800000ull, 0x1f80, 0, 0x3ull, 0, 0, 0, 0x1 },
    { "comiss", 0, 0ull, 0, 0x80000000ull, 0x1f80, 0, 0x1ull, 0, 0, 0, 0 },
    { "comiss", 0, 0x1ull, 0, 0ull, 0x1f80, 0, 0x2ull, 0, 0, 0, 0x2 },
    { "comiss", 0, 0x1ull, 0, 0ull, 0x1fc0, 0, 0x1ull, 0, 0, 0, 0 },
    { "comiss", 0, 0xff800000ull, 0, 0xff7fffffull, 0x1f80, 0, 0ull, 0, 0, 0, 0 },
    { "roundss", 0, 0x3fc00000ull, 0, 0ull, 0x1f80, 0, 0x40000000ull, 0, 0, 0, 0x20 },
    { "roundss", 0, 0x3fc00000ull, 0, 0x8ull, 0x1f80, 0, 0x40000000ull, 0, 0, 0, 0 },
    { "roundss", 0, 0x3fc00000ull, 0, 0x1ull, 0x1f80, 0, 0x3f800000ull, 0, 0, 0, 0x20 },
    { "roundss", 0, 0x3fc00000ull, 0, 0x2ull, 0x1f80, 0, 0x40000000ull, 0, 0, 0, 0x20 },
    { "roundss", 0, 0x3fc00000ull, 0, 0x3ull, 0x1f80, 0, 0x3f800000ull, 0, 0, 0, 0x20 },
    { "roundss", 0, 0xbfc00000ull, 0, 0x4ull, 0x3f80, 0, 0xc0000000ull, 0, 0, 0, 0x20 },
    { "roundss", 0, 0x7fa00000ull, 0, 0ull, 0x1f80, 0, 0x7fe00000ull, 0, 0, 0, 0x1 },
    { "roundss", 0, 0x1ull, 0, 0x2ull, 0x1f80, 0, 0x3f800000ull, 0, 0, 0, 0x20 },
    { "roundss", 0, 0xbf000000ull, 0, 0ull, 0x1f80, 0, 0x80000000ull, 0, 0, 0, 0x20 },
    { "roundss", 0, 0x4b000001ull, 0, 0ull, 0x1f80, 0, 0x4b000001ull, 0, 0, 0, 0 },
    { "addsd", 0, 0x3ff0000000000000ull, 0, 0x3ca0000000000000ull, 0x1f80, 0, 0x3ff0000000000000ull, 0, 0, 0, 0x20 },
    { "addsd", 0, 0x3ff0000000000000ull, 0, 0x3ca0000000000000ull, 0x5f80, 0, 0x3ff0000000000001ull, 0, 0, 0, 0x20 },
    { "addsd", 0, 0x7ff0000000000001ull, 0, 0x7ff8000000000002ull, 0x1f80, 0, 0x7ff8000000000001ull, 0, 0, 0, 0x1 },
    { "mulsd", 0, 0x10000000000000ull, 0, 0x3fefffffffffffffull, 0x1f80, 0, 0x10000000000000ull, 0, 0, 0, 0x30 },
    { "mulsd", 0, 0x10000000000000ull, 0, 0x3fefffffffffffffull, 0x9f80, 0, 0ull, 0, 0, 0, 0x30 },
    { "mulsd", 0, 0x7fefffffffffffffull, 0, 0x4000000000000000ull, 0x7f80, 0, 0x7fefffffffffffffull, 0, 0, 0, 0x28 },
    { "divsd", 0, 0x3ff0000000000000ull, 0, 0x4008000000000000ull, 0x1f80, 0, 0x3fd5555555555555ull, 0, 0, 0, 0x20 },
    { "divsd", 0, 0x8000000000000000ull, 0, 0ull, 0x1f80, 0, 0xfff8000000000000ull, 0, 0, 0, 0x1 },
    { "sqrtsd", 0, 0ull, 0, 0x4000000000000000ull, 0x1f80, 0, 0x3ff6a09e667f3bcdull, 0, 0, 0, 0x20 },
    { "sqrtsd", 0, 0ull, 0, 0x1ull, 0x1f80, 0, 0x1e60000000000000ull, 0, 0, 0, 0x2 },
    { "cvtsd2si64", 0, 0x43e0000000000000ull, 0, 0ull, 0x1f80, 0, 0x8000000000000000ull, 0, 0, 0, 0x1 },
    { "cvttsd2si32", 0, 0xc1e0000000000000ull, 0, 0ull, 0x1f80, 0, 0xffffffff80000000ull, 0, 0, 0, 0 },
    { "cvttsd2si32", 0, 0xc1e0000000200000ull, 0, 0ull, 0x1f80, 0, 0xffffffff80000000ull, 0, 0, 0, 0x1 },
    { "cvttsd2si32", 0, 0xc1e00000001fffffull, 0, 0ull, 0x1f80, 0, 0xffffffff80000000ull, 0, 0, 0, 0x20 },
    { "cvtsd2si32", 0, 0x41dfffffffe00000ull, 0, 0ull, 0x1f80, 0, 0xffffffff80000000ull, 0, 0, 0, 0x1 },
    { "comisd", 0, 0x7ff8000000000000ull, 0, 0x7ff8000000000000ull, 0x1f80, 0, 0x3ull, 0, 0, 0, 0x1 },
    { "ucomisd", 0, 0xfff0000000000000ull, 0, 0xfff0000000000000ull, 0x1f80, 0, 0x1ull, 0, 0, 0, 0 },
    { "minsd", 0, 0x8000000000000000ull, 0, 0ull, 0x1f80, 0, 0ull, 0, 0, 0, 0 },
    { "maxsd", 0, 0x1ull, 0, 0x2ull, 0x1f80, 0, 0x2ull, 0, 0, 0, 0x2 },
    { "roundsd", 0, 0x4004000000000000ull, 0, 0ull, 0x1f80, 0, 0x4000000000000000ull, 0, 0, 0, 0x20 },
    { "roundsd", 0, 0xc004000000000000ull, 0, 0x9ull, 0x1f80, 0, 0xc008000000000000ull, 0, 0, 0, 0 },
    { "fadd", 0x3fff, 0x8000000000000000ull, 0x3fbf, 0x8000000000000000ull, 0x37f, 0x3fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x20 },
    { "fadd", 0x3fff, 0x8000000000000000ull, 0x3fbf, 0x8000000000000000ull, 0xb7f, 0x3fff, 0x8000000000000001ull, 0, 0ull, 0ull, 0x220 },
    { "fadd", 0x3fff, 0x8000000000000000ull, 0x3fe7, 0x8000000000000000ull, 0x7f, 0x3fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x20 },
    { "fadd", 0x3fff, 0x8000000000000000ull, 0x3fe7, 0x8000000000000001ull, 0x7f, 0x3fff, 0x8000010000000000ull, 0, 0ull, 0ull, 0x220 },
    { "fadd", 0x3fff, 0x8000000000000000ull, 0x3fca, 0x8000000000000000ull, 0xa7f, 0x3fff, 0x8000000000000800ull, 0, 0ull, 0ull, 0x220 },
    { "fadd", 0x7fff, 0xa000000000000000ull, 0x7fff, 0xc000000000000001ull, 0x37f, 0x7fff, 0xc000000000000001ull, 0, 0ull, 0ull, 0x1 },
    { "fadd", 0x7fff, 0xc000000000000001ull, 0x7fff, 0xa000000000000000ull, 0x37f, 0x7fff, 0xc000000000000001ull, 0, 0ull, 0ull, 0x1 },
    { "fadd", 0x7fff, 0xc000000000000001ull, 0xffff, 0xc000000000000002ull, 0x37f, 0xffff, 0xc000000000000002ull, 0, 0ull, 0ull, 0 },
    { "fadd", 0xffff, 0xa000000000000001ull, 0x7fff, 0x9000000000000000ull, 0x37f, 0xffff, 0xe000000000000001ull, 0, 0ull, 0ull, 0x1 },
    { "fadd", 0xffff, 0xc000000000000001ull, 0x7fff, 0xc000000000000001ull, 0x37f, 0x7fff, 0xc000000000000001ull, 0, 0ull, 0ull, 0 },
    { "fadd", 0x7fff, 0xc000000000000001ull, 0xffff, 0xc000000000000001ull, 0x37f, 0x7fff, 0xc000000000000001ull, 0, 0ull, 0ull, 0 },
    { "fadd", 0x4000, 0x4000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fadd", 0x7fff, 0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fadd", 0x7fff, 0x4000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fadd", 0, 0x8000000000000001ull, 0, 0ull, 0x37f, 0x1, 0x8000000000000001ull, 0, 0ull, 0ull, 0x2 },
    { "fadd", 0, 0x1ull, 0, 0x1ull, 0x37f, 0, 0x2ull, 0, 0ull, 0ull, 0x2 },
    { "fadd", 0x7fff, 0x8000000000000000ull, 0xffff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fadd", 0x7ffe, 0xffffffffffffffffull, 0x7ffe, 0xffffffffffffffffull, 0x37f, 0x7fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x228 },
    { "fadd", 0x7ffe, 0xffffffffffffffffull, 0x7ffe, 0xffffffffffffffffull, 0xf7f, 0x7ffe, 0xffffffffffffffffull, 0, 0ull, 0ull, 0x28 },
    { "fadd", 0x7ffe, 0xffffffffffffffffull, 0x7ffe, 0xffffffffffffffffull, 0xc7f, 0x7ffe, 0xffffff0000000000ull, 0, 0ull, 0ull, 0x28 },
    { "fadd", 0x7ffe, 0xffffffffffffffffull, 0x7ffe, 0xffffffffffffffffull, 0x377, 0x1fff, 0xffffffffffffffffull, 0, 0ull, 0ull, 0x8 },
    { "fmul", 0x1, 0x8000000000000000ull, 0x3ffe, 0x8000000000000000ull, 0x37f, 0, 0x4000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fmul", 0x1, 0x8000000000000000ull, 0x3ffe, 0x8000000000000000ull, 0x36f, 0x6000, 0x8000000000000000ull, 0, 0ull, 0ull, 0x10 },
    { "fmul", 0x1, 0x8000000000000001ull, 0x3ffe, 0xc000000000000000ull, 0xb6f, 0x6000, 0xc000000000000002ull, 0, 0ull, 0ull, 0x230 },
    { "fmul", 0x1, 0x8000000000000001ull, 0x3ffe, 0xc000000000000000ull, 0xb7f, 0, 0x6000000000000001ull, 0, 0ull, 0ull, 0x230 },
    { "fmul", 0x1, 0x8000000000000001ull, 0x3ffe, 0xc000000000000000ull, 0x87f, 0, 0x6000010000000000ull, 0, 0ull, 0ull, 0x230 },
    { "fmul", 0x7ff0, 0xc000000000000000ull, 0x4100, 0xc000000000000001ull, 0x77, 0x20f2, 0x9000000000000000ull, 0, 0ull, 0ull, 0x28 },
    { "fmul", 0x7fff, 0x8000000000000000ull, 0, 0ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fdiv", 0x3fff, 0x8000000000000000ull, 0, 0ull, 0x37f, 0x7fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x4 },
    { "fdiv", 0, 0ull, 0x8000, 0ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fdiv", 0x3fff, 0x8000000000000000ull, 0x4000, 0xc000000000000000ull, 0x37f, 0x3ffd, 0xaaaaaaaaaaaaaaabull, 0, 0ull, 0ull, 0x220 },
    { "fdiv", 0x3fff, 0x8000000000000000ull, 0x4000, 0xc000000000000000ull, 0x87f, 0x3ffd, 0xaaaaab0000000000ull, 0, 0ull, 0ull, 0x220 },
    { "fdiv", 0, 0x1ull, 0, 0ull, 0x37f, 0x7fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x4 },
    { "fsqrt", 0xbfff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fsqrt", 0x8000, 0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x8000, 0ull, 0, 0ull, 0ull, 0 },
    { "fsqrt", 0x4000, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fff, 0xb504f333f9de6484ull, 0, 0ull, 0ull, 0x20 },
    { "fsqrt", 0x4000, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0xa7f, 0x3fff, 0xb504f333f9de6800ull, 0, 0ull, 0ull, 0x220 },
    { "fsqrt", 0, 0x1ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x1fe0, 0xb504f333f9de6484ull, 0, 0ull, 0ull, 0x22 },
    { "frndint", 0x4000, 0xa000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x4000, 0x8000000000000000ull, 0, 0ull, 0ull, 0x20 },
    { "frndint", 0x4000, 0xa000000000000000ull, 0x3fff, 0x8000000000000000ull, 0xb7f, 0x4000, 0xc000000000000000ull, 0, 0ull, 0ull, 0x220 },
    { "frndint", 0xbffe, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x8000, 0ull, 0, 0ull, 0ull, 0x20 },
    { "frndint", 0xbffe, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x77f, 0xbfff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x220 },
    { "frndint", 0, 0x1ull, 0x3fff, 0x8000000000000000ull, 0xb7f, 0x3fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x222 },
    { "frndint", 0x403e, 0xffffffffffffffffull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x403e, 0xffffffffffffffffull, 0, 0ull, 0ull, 0 },
    { "fprem", 0x4002, 0xa000000000000000ull, 0x4000, 0xc000000000000000ull, 0x37f, 0x3fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x4200 },
    { "fprem1", 0x4002, 0xa000000000000000ull, 0x4000, 0xc000000000000000ull, 0x37f, 0x3fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x4200 },
    { "fprem1", 0x4001, 0xe000000000000000ull, 0x4000, 0x8000000000000000ull, 0x37f, 0xbfff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x100 },
    { "fprem", 0xc001, 0xe000000000000000ull, 0x4000, 0x8000000000000000ull, 0x37f, 0xbfff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x4200 },
    { "fprem", 0x40ff, 0xc90fdaa22168c234ull, 0x3fff, 0xc90fdaa22168c235ull, 0x37f, 0x40df, 0xc90fdaa12168c235ull, 0, 0ull, 0ull, 0x400 },
    { "fprem1", 0x40ff, 0xc90fdaa22168c234ull, 0x3fff, 0xc90fdaa22168c235ull, 0x37f, 0x40df, 0xc90fdaa12168c235ull, 0, 0ull, 0ull, 0x400 },
    { "fprem", 0x4005, 0xa000000000000000ull, 0x7fff, 0x8000000000000000ull, 0x37f, 0x4005, 0xa000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fprem", 0x4005, 0xa000000000000000ull, 0, 0ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fprem1", 0x3ffe, 0xc000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xbffd, 0x8000000000000000ull, 0, 0ull, 0ull, 0x200 },
    { "fprem1", 0x3ffe, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3ffe, 0x8000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fscale", 0x3fff, 0x8000000000000000ull, 0x4000, 0xc000000000000000ull, 0x37f, 0x4002, 0x8000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fscale", 0x3fff, 0x8000000000000000ull, 0xc000, 0xf000000000000000ull, 0x37f, 0x3ffc, 0x8000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fscale", 0x3fff, 0x8000000000000000ull, 0x7fff, 0x8000000000000000ull, 0x37f, 0x7fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fscale", 0, 0ull, 0x7fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fscale", 0x7fff, 0x8000000000000000ull, 0xffff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fscale", 0x3fff, 0x8000000000000000ull, 0x400d, 0x8000000000000000ull, 0x37f, 0x7fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x228 },
    { "fscale", 0x3fff, 0x8000000000000000ull, 0xc00d, 0x8000000000000000ull, 0x37f, 0, 0x2000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fscale", 0, 0x1ull, 0x4005, 0x8000000000000000ull, 0x37f, 0x2, 0x8000000000000000ull, 0, 0ull, 0ull, 0x2 },
    { "fxtract", 0x4005, 0xc800000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fff, 0xc800000000000000ull, 0x4001, 0xc000000000000000ull, 0ull, 0 },
    { "fxtract", 0x8000, 0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x8000, 0ull, 0xffff, 0x8000000000000000ull, 0ull, 0x4 },
    { "fxtract", 0, 0x1ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fff, 0x8000000000000000ull, 0xc00d, 0x807a000000000000ull, 0ull, 0x2 },
    { "fxtract", 0xffff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0x8000000000000000ull, 0x7fff, 0x8000000000000000ull, 0ull, 0 },
    { "fist16", 0x400d, 0xffff000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0xffffffffffff8000ull, 0x1 },
    { "fist16", 0xc00d, 0x8000ccccccccccccull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0xffffffffffffc000ull, 0x20 },
    { "fist16", 0x7fff, 0xc000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0xffffffffffff8000ull, 0x1 },
    { "fist32", 0x401d, 0xffffffff00000000ull, 0x3fff, 0x8000000000000000ull, 0xb7f, 0, 0ull, 0, 0ull, 0xffffffff80000000ull, 0x1 },
    { "fisttp32", 0x401e, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0xffffffff80000000ull, 0x1 },
    { "fisttp64", 0xc03e, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0x8000000000000000ull, 0 },
    { "fist64", 0x403e, 0xffffffffffffffffull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0x8000000000000000ull, 0x1 },
    { "fst32", 0x3f80, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0x400000ull, 0 },
    { "fst32", 0x3f69, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0ull, 0x30 },
    { "fst32", 0x407e, 0xffffff8000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0x7f800000ull, 0x228 },
    { "fst32", 0x407e, 0xffffff8000000000ull, 0x3fff, 0x8000000000000000ull, 0xf7f, 0, 0ull, 0, 0ull, 0x7f7fffffull, 0x20 },
    { "fst64", 0x7fff, 0xa000000000000800ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0x7ffc000000000001ull, 0x1 },
    { "fst64", 0, 0x1ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0ull, 0x30 },
    { "fst64", 0x3bcd, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0xb7f, 0, 0ull, 0, 0ull, 0x1ull, 0 },
    { "fld32", 0, 0x1ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3f6a, 0x8000000000000000ull, 0, 0ull, 0ull, 0x2 },
    { "fld32", 0, 0xffa00001ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xe000010000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fld64", 0, 0x7ff0000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x7fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fcom", 0x7fff, 0xc000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x7fff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fucom", 0x7fff, 0xc000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x7fff, 0xc000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fucom", 0x7fff, 0xa000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x7fff, 0xa000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fcom", 0, 0ull, 0x8000, 0ull, 0x37f, 0, 0ull, 0, 0ull, 0ull, 0x4000 },
    { "fcom", 0, 0x1ull, 0, 0x8000000000000000ull, 0x37f, 0, 0x1ull, 0, 0ull, 0ull, 0x102 },
    { "fcom", 0xc000, 0x8000000000000000ull, 0xbfff, 0x8000000000000000ull, 0x37f, 0xc000, 0x8000000000000000ull, 0, 0ull, 0ull, 0x100 },
    { "fcom", 0x4000, 0x4000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x4000, 0x4000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fldpi", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x4000, 0xc90fdaa22168c235ull, 0, 0ull, 0ull, 0 },
    { "fldpi", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x77f, 0x4000, 0xc90fdaa22168c234ull, 0, 0ull, 0ull, 0 },
    { "fldl2e", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fff, 0xb8aa3b295c17f0bcull, 0, 0ull, 0ull, 0 },
    { "fldl2e", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0xf7f, 0x3fff, 0xb8aa3b295c17f0bbull, 0, 0ull, 0ull, 0 },
    { "fldl2t", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0xb7f, 0x4000, 0xd49a784bcd1b8affull, 0, 0ull, 0ull, 0 },
    { "fldlg2", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0xf7f, 0x3ffd, 0x9a209a84fbcff798ull, 0, 0ull, 0ull, 0 },
    { "fldln2", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3ffe, 0xb17217f7d1cf79acull, 0, 0ull, 0ull, 0 },
    { "fsin", 0x8000, 0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x8000, 0ull, 0, 0ull, 0ull, 0 },
    { "fsin", 0x7fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fsin", 0x403e, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x403e, 0x8000000000000000ull, 0, 0ull, 0ull, 0x400 },
    { "fsin", 0x403d, 0xffffffffffffffffull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3ffe, 0xe0ab9300da6d2684ull, 0, 0ull, 0ull, 0x20 },
    { "fsin", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3ffe, 0xd76aa47848677021ull, 0, 0ull, 0ull, 0x20 },
    { "fsin", 0x4000, 0xc90fdaa22168c235ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xbfbf, 0x8000000000000000ull, 0, 0ull, 0ull, 0x20 },
    { "fsin", 0, 0x1ull, 0x3fff, 0x8000000000000000ull, 0xf7f, 0, 0ull, 0, 0ull, 0ull, 0x32 },
    { "fsin", 0x7fff, 0xa000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x7fff, 0xe000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fcos", 0x8000, 0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fcos", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3ffe, 0x8a51407da8345c92ull, 0, 0ull, 0ull, 0x20 },
    { "fcos", 0x3fff, 0xc90fdaa22168c235ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xbfbe, 0x8000000000000000ull, 0, 0ull, 0ull, 0x20 },
    { "fcos", 0x4020, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3ffe, 0x92b917e7180eea0eull, 0, 0ull, 0ull, 0x20 },
    { "fcos", 0xffff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fptan", 0x3ffe, 0xc90fdaa22168c235ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x20 },
    { "fptan", 0x3ffe, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3ffe, 0x8bda7adf9a3a5219ull, 0, 0ull, 0ull, 0x20 },
    { "fptan", 0x8000, 0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x8000, 0ull, 0, 0ull, 0ull, 0 },
    { "fptan", 0xc03f, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xc03f, 0x8000000000000000ull, 0, 0ull, 0ull, 0x400 },
    { "fpatan", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3ffe, 0xc90fdaa22168c235ull, 0, 0ull, 0ull, 0x20 },
    { "fpatan", 0xbfff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x4000, 0x96cbe3f9990e91a8ull, 0, 0ull, 0ull, 0x20 },
    { "fpatan", 0, 0ull, 0x8000, 0ull, 0x37f, 0x8000, 0ull, 0, 0ull, 0ull, 0 },
    { "fpatan", 0x8000, 0ull, 0x8000, 0ull, 0x37f, 0xc000, 0xc90fdaa22168c235ull, 0, 0ull, 0ull, 0x20 },
    { "fpatan", 0, 0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fff, 0xc90fdaa22168c235ull, 0, 0ull, 0ull, 0x20 },
    { "fpatan", 0xffff, 0x8000000000000000ull, 0x7fff, 0x8000000000000000ull, 0x37f, 0x4000, 0x96cbe3f9990e91a8ull, 0, 0ull, 0ull, 0x20 },
    { "fpatan", 0x4000, 0xc000000000000000ull, 0x3ffe, 0x8000000000000000ull, 0xb7f, 0x3ffc, 0xa91cbc21e4d6eb5eull, 0, 0ull, 0ull, 0x20 },
    { "f2xm1", 0x3ffe, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3ffd, 0xd413cccfe7799211ull, 0, 0ull, 0ull, 0x20 },
    { "f2xm1", 0xbfff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xbffe, 0x8000000000000000ull, 0, 0ull, 0ull, 0x20 },
    { "f2xm1", 0x3fff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x20 },
    { "f2xm1", 0xffff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xbfff, 0x8000000000000000ull, 0, 0ull, 0ull, 0 },
    { "f2xm1", 0x3fc0, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fbf, 0xb17217f7d1cf79acull, 0, 0ull, 0ull, 0x20 },
    { "fyl2x", 0x4002, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x4000, 0xc000000000000000ull, 0, 0ull, 0ull, 0x20 },
    { "fyl2x", 0x3fff, 0x8000000000000000ull, 0x4000, 0xc000000000000000ull, 0x37f, 0, 0ull, 0, 0ull, 0ull, 0 },
    { "fyl2x", 0, 0ull, 0xc000, 0xc000000000000000ull, 0x37f, 0x7fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x4 },
    { "fyl2x", 0, 0ull, 0, 0ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fyl2x", 0x8000, 0ull, 0x8000, 0x1ull, 0x37f, 0x7fff, 0x8000000000000000ull, 0, 0ull, 0ull, 0x4 },
    { "fyl2x", 0xbfff, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fyl2x", 0x4000, 0xa000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fff, 0xa934f0979a3715fdull, 0, 0ull, 0ull, 0x20 },
    { "fyl2x", 0x3ffe, 0x8000000000000000ull, 0x7fff, 0x8000000000000000ull, 0x37f, 0xffff, 0x8000000000000000ull, 0, 0ull, 0ull, 0 },
    { "fyl2xp1", 0x3ffd, 0x8000000000000000ull, 0x4000, 0xc000000000000000ull, 0x37f, 0x3ffe, 0xf73da38d9d4a83ebull, 0, 0ull, 0ull, 0x20 },
    { "fyl2xp1", 0, 0ull, 0x7fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fyl2xp1", 0x3fc0, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x3fc0, 0xb8aa3b295c17f0bbull, 0, 0ull, 0ull, 0x20 },
    { "fyl2xp1", 0x8000, 0ull, 0x4000, 0xc000000000000000ull, 0x37f, 0x8000, 0ull, 0, 0ull, 0ull, 0 },
    { "fbstp", 0x4038, 0xde0b6b3a763ffff0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x25, 0ull, 0, 0ull, 0ull, 0x220 },
    { "fbstp", 0x4038, 0xde0b6b3a763ffff0ull, 0x3fff, 0x8000000000000000ull, 0xf7f, 0x24, 0x9999999999999999ull, 0, 0ull, 0ull, 0x20 },
    { "fbstp", 0xc039, 0xde0b6b3a76400000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x8050, 0ull, 0, 0ull, 0ull, 0 },
    { "fbstp", 0xbffe, 0x8000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x77f, 0x8000, 0x1ull, 0, 0ull, 0ull, 0x220 },
    { "fbstp", 0x8000, 0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x8000, 0ull, 0, 0ull, 0ull, 0 },
    { "fbstp", 0x7fff, 0xc000000000000000ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xffff, 0xc000000000000000ull, 0, 0ull, 0ull, 0x1 },
    { "fbld", 0x8000, 0x1234567890123456ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0xc031, 0x8c5aa79157580000ull, 0, 0ull, 0ull, 0 },
    { "fbld", 0x99, 0x9999999999999999ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x403a, 0xde0b6b3a763ffff0ull, 0, 0ull, 0ull, 0 },
    { "fbld", 0x8000, 0ull, 0x3fff, 0x8000000000000000ull, 0x37f, 0x8000, 0ull, 0, 0ull, 0ull, 0 },
};

typedef uint64_t (*sse_soft)(uint64_t a, uint64_t b, sf_status *st);
typedef void (*x87_soft)(f80 a, f80 b, sf_status *st, x87_res *out);

static const struct {
    const char *name;
    sse_soft fn;
} sse_table[] = {
#define S(n) { #n, s_##n }
    S(addss), S(subss), S(mulss), S(divss), S(sqrtss), S(minss), S(maxss), S(addsd), S(subsd),
    S(mulsd), S(divsd), S(sqrtsd), S(minsd), S(maxsd), S(cvtss2sd), S(cvtsd2ss), S(cvtsi2ss32),
    S(cvtsi2ss64), S(cvtsi2sd32), S(cvtsi2sd64), S(cvtss2si32), S(cvtss2si64), S(cvttss2si32),
    S(cvttss2si64), S(cvtsd2si32), S(cvtsd2si64), S(cvttsd2si32), S(cvttsd2si64), S(comiss),
    S(ucomiss), S(comisd), S(ucomisd), S(roundss), S(roundsd),
#undef S
};

static const struct {
    const char *name;
    x87_soft fn;
    uint16_t cc_mask;
} x87_table[] = {
#define X(n, cc) { #n, s_##n, cc }
    X(fadd, FSW_C1), X(fsub, FSW_C1), X(fmul, FSW_C1), X(fdiv, FSW_C1), X(fsqrt, FSW_C1),
    X(frndint, FSW_C1), X(fscale, FSW_C1), X(fprem, FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3),
    X(fprem1, FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3), X(fcom, FSW_C0 | FSW_C2 | FSW_C3),
    X(fucom, FSW_C0 | FSW_C2 | FSW_C3), X(fxtract, 0), X(fist16, FSW_C1), X(fist32, FSW_C1),
    X(fist64, FSW_C1), X(fisttp16, 0), X(fisttp32, 0), X(fisttp64, 0), X(fst32, FSW_C1),
    X(fst64, FSW_C1), X(fld32, 0), X(fld64, 0), X(fld1, FSW_C1), X(fldl2t, FSW_C1),
    X(fldl2e, FSW_C1), X(fldpi, FSW_C1), X(fldlg2, FSW_C1), X(fldln2, FSW_C1), X(fldz, FSW_C1),
    X(fsin, FSW_C2), X(fcos, FSW_C2), X(fptan, FSW_C2), X(fpatan, 0), X(f2xm1, 0), X(fyl2x, 0),
    X(fyl2xp1, 0), X(fbstp, FSW_C1), X(fbld, 0),
#undef X
};

/* Run one vector; returns true if the soft result matches, printing the case otherwise. */
static bool run_vector(const vec *v)
{
    for (size_t i = 0; i < sizeof sse_table / sizeof sse_table[0]; i++) {
        if (strcmp(sse_table[i].name, v->op))
            continue;
        sf_status st = sf_status_default();
        st.rounding = (uint8_t)((v->ctrl >> 13) & 3);
        st.masks = (uint8_t)((v->ctrl >> 7) & SF_ALL_EXC);
        st.ftz = (v->ctrl >> 15) & 1;
        st.daz = (v->ctrl >> 6) & 1;
        uint64_t r = sse_table[i].fn(v->alo, v->blo, &st);
        if (r == v->r0lo && st.flags == v->sw)
            return true;
        fprintf(stderr, "vector %s a=%#llx b=%#llx mxcsr=%#x: want %#llx/%#x got %#llx/%#x\n",
                v->op, (unsigned long long)v->alo, (unsigned long long)v->blo, v->ctrl,
                (unsigned long long)v->r0lo, v->sw, (unsigned long long)r, st.flags);
        return false;
    }
    for (size_t i = 0; i < sizeof x87_table / sizeof x87_table[0]; i++) {
        if (strcmp(x87_table[i].name, v->op))
            continue;
        sf_status st = sf_status_default();
        st.rounding = (uint8_t)((v->ctrl >> 10) & 3);
        st.precision = (uint8_t)((v->ctrl >> 8) & 3);
        st.masks = (uint8_t)(v->ctrl & SF_ALL_EXC);
        x87_res got;
        memset(&got, 0, sizeof got);
        x87_table[i].fn(f80_make(v->ahi, v->alo), f80_make(v->bhi, v->blo), &st, &got);
        uint16_t cc = x87_table[i].cc_mask;
        if ((cc & FSW_C1) && !(cc & FSW_C0) && st.c1)
            got.sw |= FSW_C1;
        bool nan_result = (v->r0hi & 0x7FFF) == 0x7FFF && (v->r0lo << 1);
        if ((cc & FSW_C0) && ((v->sw & SF_IE) || nan_result))
            cc = 0; /* FPREM*: condition codes undefined */
        got.sw = (uint16_t)((got.sw & cc) | st.flags);
        if (got.r[0].sign_exp == v->r0hi && got.r[0].mant == v->r0lo &&
            got.r[1].sign_exp == v->r1hi && got.r[1].mant == v->r1lo && got.i == v->i &&
            got.sw == v->sw)
            return true;
        fprintf(stderr,
                "vector %s a=%04x:%016llx b=%04x:%016llx fcw=%#x: want %04x:%016llx "
                "%04x:%016llx i=%#llx sw=%#x; got %04x:%016llx %04x:%016llx i=%#llx sw=%#x\n",
                v->op, v->ahi, (unsigned long long)v->alo, v->bhi, (unsigned long long)v->blo,
                v->ctrl, v->r0hi, (unsigned long long)v->r0lo, v->r1hi,
                (unsigned long long)v->r1lo, (unsigned long long)v->i, v->sw,
                got.r[0].sign_exp, (unsigned long long)got.r[0].mant, got.r[1].sign_exp,
                (unsigned long long)got.r[1].mant, (unsigned long long)got.i, got.sw);
        return false;
    }
    fprintf(stderr, "vector names unknown op %s\n", v->op);
    return false;
}

Test(softfloat_vectors, all)
{
    int fails = 0;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        fails += !run_vector(&vectors[i]);
    fprintf(stderr, "softfloat vectors: %zu cases, %d failures\n",
            sizeof vectors / sizeof vectors[0], fails);
    cr_assert_eq(fails, 0, "%d softfloat vector failures", fails);
}

/* FXAM classes and encoding predicates, including the x87 unsupported encodings. */
static const struct {
    uint16_t se;
    uint64_t mant;
    int cls;
    bool nan, snan, unsupported;
} class_cases[] = {
    { 0x0000, 0, SF_CLASS_ZERO, false, false, false },
    { 0x8000, 0, SF_CLASS_ZERO, false, false, false },
    { 0x0000, 1, SF_CLASS_DENORMAL, false, false, false },
    { 0x0000, 0x8000000000000000ull, SF_CLASS_DENORMAL, false, false, false }, /* pseudo-denormal */
    { 0x3FFF, 0x8000000000000000ull, SF_CLASS_NORMAL, false, false, false },
    { 0x3FFF, 0x4000000000000000ull, SF_CLASS_UNSUPPORTED, false, false, true }, /* unnormal */
    { 0x7FFF, 0x8000000000000000ull, SF_CLASS_INFINITY, false, false, false },
    { 0x7FFF, 0, SF_CLASS_UNSUPPORTED, false, false, true },                    /* pseudo-inf */
    { 0x7FFF, 0x4000000000000000ull, SF_CLASS_UNSUPPORTED, false, false, true }, /* pseudo-NaN */
    { 0x7FFF, 0xC000000000000000ull, SF_CLASS_NAN, true, false, false },
    { 0xFFFF, 0xA000000000000000ull, SF_CLASS_NAN, true, true, false },
};

Test(softfloat_vectors, classify)
{
    for (size_t i = 0; i < sizeof class_cases / sizeof class_cases[0]; i++) {
        f80 v = f80_make(class_cases[i].se, class_cases[i].mant);
        cr_expect_eq(f80_classify(v), class_cases[i].cls, "class of %04x:%016llx",
                     class_cases[i].se, (unsigned long long)class_cases[i].mant);
        cr_expect_eq(f80_is_nan(v), class_cases[i].nan, "nan %zu", i);
        cr_expect_eq(f80_is_signaling_nan(v), class_cases[i].snan, "snan %zu", i);
        cr_expect_eq(f80_is_unsupported(v), class_cases[i].unsupported, "unsupported %zu", i);
    }
    cr_expect(f32_is_nan(0x7FA00000) && !f32_is_nan(0x7F800000));
    cr_expect(f64_is_nan(0xFFF8000000000000ull) && !f64_is_nan(0xFFF0000000000000ull));
}

/* FILD is exact for every int64, including the most negative one. */
Test(softfloat_vectors, fild)
{
    static const struct {
        int64_t in;
        uint16_t se;
        uint64_t mant;
    } cases[] = {
        { 0, 0x0000, 0 },
        { 1, 0x3FFF, 0x8000000000000000ull },
        { -3, 0xC000, 0xC000000000000000ull },
        { INT64_MAX, 0x403D, 0xFFFFFFFFFFFFFFFEull },
        { INT64_MIN, 0xC03E, 0x8000000000000000ull },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f80 r = i64_to_f80(cases[i].in);
        cr_expect(r.sign_exp == cases[i].se && r.mant == cases[i].mant, "fild %lld -> %04x:%016llx",
                  (long long)cases[i].in, r.sign_exp, (unsigned long long)r.mant);
    }
}

/* Flags raised with exceptions unmasked (an unmasked flag faults with #XM and stores nothing),
 * as read from the faulting MXCSR on an x86-64 host. */
static const struct {
    const char *op;
    uint32_t a, b, mxcsr;
    uint8_t flags;
} unmasked_cases[] = {
    { "mulss", 0x7f000000, 0x7f000000, 0x1b80, SF_OE },         /* exact overflow */
    { "mulss", 0x7f000001, 0x7f000001, 0x1b80, SF_OE | SF_PE }, /* inexact overflow */
    { "mulss", 0x7f000000, 0x7f000000, 0x0f80, SF_OE | SF_PE }, /* masked OE, PE unmasked */
    { "mulss", 0x00800000, 0x3f000000, 0x1780, SF_UE },         /* exact tiny */
    { "mulss", 0x00800001, 0x3f000000, 0x1780, SF_UE },         /* exact at 24 bits unbounded */
    { "mulss", 0x00800000, 0x3f7fffff, 0x1780, SF_UE },
    { "mulss", 0x00800001, 0x3f7fffff, 0x1780, SF_PE },         /* not tiny: no fault */
    { "mulss", 0x00000001, 0x3f800001, 0x1e80, SF_DE },         /* stops before computing */
    { "mulss", 0x00000003, 0x3f000000, 0x0f80, SF_DE | SF_UE | SF_PE },
    { "mulss", 0x7fa00000, 0x00000001, 0x1f00, SF_IE },         /* no DE after the SNaN */
    { "divss", 0x3f800000, 0x00000000, 0x1d80, SF_ZE },
};

Test(softfloat_vectors, unmasked_sse_flags)
{
    for (size_t i = 0; i < sizeof unmasked_cases / sizeof unmasked_cases[0]; i++) {
        sf_status st = sf_status_default();
        st.masks = (uint8_t)((unmasked_cases[i].mxcsr >> 7) & SF_ALL_EXC);
        if (!strcmp(unmasked_cases[i].op, "mulss"))
            f32_mul(unmasked_cases[i].a, unmasked_cases[i].b, &st);
        else
            f32_div(unmasked_cases[i].a, unmasked_cases[i].b, &st);
        cr_expect_eq(st.flags, unmasked_cases[i].flags, "%s %08x %08x mxcsr %#x: flags %#x want %#x",
                     unmasked_cases[i].op, unmasked_cases[i].a, unmasked_cases[i].b,
                     unmasked_cases[i].mxcsr, st.flags, unmasked_cases[i].flags);
    }
}

/* FMA3 scalar forms (results and flags from an x86-64 host with FMA). */
static const struct {
    const char *name;
    bool dbl;
    int form;
    bool neg_mul, neg_add;
    uint64_t s1, s2, s3;
    uint32_t mxcsr;
    uint64_t result;
    uint8_t flags;
} fma_cases[] = {
    { "fmadd231ss", false, 231, false, false, 0x3f800001ull, 0x3f800001ull, 0xbf800002ull, 0x1f80, 0xb4800001ull, 0 },
    { "fmadd213ss", false, 213, false, false, 0x3f800000ull, 0x33800000ull, 0x3f800000ull, 0x1f80, 0x3f800000ull, 0x20 },
    { "fmadd213ss", false, 213, false, false, 0x3f800000ull, 0x33800000ull, 0x3f800000ull, 0x5f80, 0x3f800001ull, 0x20 },
    { "fnmadd231ss", false, 231, true, false, 0x3f800000ull, 0x40000000ull, 0x40400000ull, 0x1f80, 0xc0a00000ull, 0 },
    { "fmsub132ss", false, 132, false, true, 0x7fc00001ull, 0x7fa00002ull, 0x7fc00003ull, 0x1f80, 0x7fc00001ull, 0x1 },
    { "fmadd231ss", false, 231, false, false, 0x7fc00001ull, 0ull, 0xff800000ull, 0x1f80, 0x7fc00001ull, 0 },
    { "fmadd213ss", false, 213, false, false, 0ull, 0x7f800000ull, 0x3f800000ull, 0x1f80, 0xffc00000ull, 0x1 },
    { "fmadd231sd", true, 231, false, false, 0x3ff0000000000000ull, 0x3ff0000000000001ull, 0xbff0000000000001ull, 0x1f80, 0xbcc0000000000000ull, 0x20 },
    { "fmsub231sd", true, 231, false, true, 0ull, 0x10000000000000ull, 0x3fe0000000000000ull, 0x1f80, 0x8000000000000ull, 0 },
    { "fmsub231sd", true, 231, false, true, 0ull, 0x10000000000000ull, 0x3fe0000000000000ull, 0x9f80, 0ull, 0x30 },
    { "fnmsub213sd", true, 213, true, true, 0x4000000000000000ull, 0x7fe0000000000000ull, 0x7fe0000000000000ull, 0x1f80, 0xfff0000000000000ull, 0x28 },
    { "fmadd132sd", true, 132, false, false, 0x3ff0000000000000ull, 0x8000000000000000ull, 0ull, 0x3f80, 0x8000000000000000ull, 0 },
};

Test(softfloat_vectors, fma)
{
    for (size_t i = 0; i < sizeof fma_cases / sizeof fma_cases[0]; i++) {
        sf_status st = sf_status_default();
        st.rounding = (uint8_t)((fma_cases[i].mxcsr >> 13) & 3);
        st.ftz = (fma_cases[i].mxcsr >> 15) & 1;
        uint64_t r = fma_cases[i].dbl
                         ? f64_fma(fma_cases[i].s1, fma_cases[i].s2, fma_cases[i].s3,
                                   fma_cases[i].form, fma_cases[i].neg_mul, fma_cases[i].neg_add,
                                   &st)
                         : f32_fma((f32)fma_cases[i].s1, (f32)fma_cases[i].s2,
                                   (f32)fma_cases[i].s3, fma_cases[i].form, fma_cases[i].neg_mul,
                                   fma_cases[i].neg_add, &st);
        cr_expect(r == fma_cases[i].result && st.flags == fma_cases[i].flags,
                  "%s case %zu: got %#llx/%#x want %#llx/%#x", fma_cases[i].name, i,
                  (unsigned long long)r, st.flags, (unsigned long long)fma_cases[i].result,
                  fma_cases[i].flags);
    }
}
