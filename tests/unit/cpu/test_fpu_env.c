/* x87 environment layouts and pointers: FNSTENV/FLDENV/FNSAVE/FRSTOR in their 14/28-byte
 * (94/108-byte) protected-mode and real-mode forms (SDM Vol 1 Figures 8-9 to 8-12), FIP/FDP/FOP
 * in FXSAVE/FXSAVE64/XSAVE/XSAVE64 (Tables 10-2, 10-3), every byte offset checked; XGETBV ECX
 * values. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

enum { M_REAL, M_PROT32, M_LONG };

struct field {
    uint32_t at; /* guest-physical */
    uint8_t size;
    uint64_t want;
};

struct env_case {
    const char *name;
    unsigned mode;
    const uint8_t *code;
    size_t len;
    const uint64_t (*data)[2]; /* {gpa, 8-byte value} written first, ends with {0, 0} */
    const struct field *fields;
};

#define CODE(...) .code = (const uint8_t[]){__VA_ARGS__}, .len = sizeof((const uint8_t[]){__VA_ARGS__})
#define FIELDS(...) .fields = (const struct field[]){__VA_ARGS__, {0, 0, 0}}
#define DATA(...) .data = (const uint64_t[][2]){__VA_ARGS__, {0, 0}}
#define D_1_5 0x3FF8000000000000ull
#define D_2_0 0x4000000000000000ull
#define UNTOUCHED 0xAAu /* the fill byte around every save area */

/* After FNINIT; FLD 1.5; FADD 2.0: TOP 7, physical register 7 valid (tag 00), ST0 3.5. */
#define SW 0x3800u
#define TW 0x3FFFu

static const struct env_case cases[] = {
    {"protected mode, 32- and 16-bit operand size", M_PROT32,
     CODE(0xDB, 0xE3,                                     /* 0: fninit */
          0xDD, 0x05, 0x10, 0x00, 0x04, 0x00,             /* 2: fld qword [0x40010] */
          0x26, 0xDC, 0x05, 0x18, 0x00, 0x04, 0x00,       /* 8: es: fadd qword [0x40018] */
          0xD9, 0x35, 0x00, 0x01, 0x04, 0x00,             /* fnstenv [0x40100] */
          0x66, 0xD9, 0x35, 0x00, 0x02, 0x04, 0x00,       /* o16 fnstenv [0x40200] */
          0xDD, 0x35, 0x00, 0x03, 0x04, 0x00,             /* fnsave [0x40300] */
          0xDD, 0x25, 0x00, 0x03, 0x04, 0x00,             /* frstor [0x40300] */
          0x66, 0xDD, 0x35, 0x00, 0x04, 0x04, 0x00,       /* o16 fnsave [0x40400] */
          0x66, 0xDD, 0x25, 0x00, 0x04, 0x04, 0x00,       /* o16 frstor [0x40400] */
          0xD9, 0x35, 0x00, 0x05, 0x04, 0x00,             /* fnstenv [0x40500] */
          0xF4),
     DATA({0x40010, D_1_5}, {0x40018, D_2_0}),
     FIELDS(/* Figure 8-9: 32-bit protected mode; FCS 08H, FOP 405H, FDS 2BH (ES). */
            {0x40100, 4, 0xFFFF037Fu}, {0x40104, 4, 0xFFFF0000u | SW}, {0x40108, 4, 0xFFFF0000u | TW},
            {0x4010C, 4, 0x10008}, {0x40110, 4, 0x04050008}, {0x40114, 4, 0x40018},
            {0x40118, 4, 0xFFFF002Bu}, {0x4011C, 1, UNTOUCHED},
            /* Figure 8-10: 16-bit protected mode, 14 bytes. */
            {0x40200, 2, 0x037F}, {0x40202, 2, SW}, {0x40204, 2, TW}, {0x40206, 2, 0x0008},
            {0x40208, 2, 0x0008}, {0x4020A, 2, 0x0018}, {0x4020C, 2, 0x002B}, {0x4020E, 1, UNTOUCHED},
            /* FNSAVE: ST0 (3.5) at 28, 108 bytes. */
            {0x40300 + 12, 4, 0x10008}, {0x40300 + 28, 8, 0xE000000000000000ull},
            {0x40300 + 36, 2, 0x4000}, {0x40300 + 108, 1, UNTOUCHED},
            /* o16 FNSAVE: ST0 at 14, 94 bytes. */
            {0x40400 + 6, 2, 0x0008}, {0x40400 + 14, 8, 0xE000000000000000ull},
            {0x40400 + 22, 2, 0x4000}, {0x40400 + 94, 1, UNTOUCHED},
            /* o16 FRSTOR restored what the 16-bit form holds: 16-bit offsets, no FOP. */
            {0x40500, 4, 0xFFFF037Fu}, {0x40504, 4, 0xFFFF0000u | SW}, {0x40508, 4, 0xFFFF0000u | TW},
            {0x4050C, 4, 0x0008}, {0x40510, 4, 0x00000008}, {0x40514, 4, 0x0018},
            {0x40518, 4, 0xFFFF002Bu})},
    {"real mode, 16- and 32-bit operand size", M_REAL,
     CODE(0xB8, 0x00, 0x20,                   /* 0: mov ax, 2000H */
          0x8E, 0xC0,                         /* 3: mov es, ax */
          0xDB, 0xE3,                         /* 5: fninit */
          0xDD, 0x06, 0x10, 0x00,             /* 7: fld qword [0010H] */
          0x26, 0xDC, 0x06, 0x18, 0x00,       /* 11: es: fadd qword [0018H] (linear 20018H) */
          0xD9, 0x36, 0x00, 0x01,             /* fnstenv [0100H] */
          0x66, 0xD9, 0x36, 0x00, 0x02,       /* o32 fnstenv [0200H] */
          0xDD, 0x36, 0x00, 0x03,             /* fnsave [0300H] */
          0xDD, 0x26, 0x00, 0x03,             /* frstor [0300H] */
          0x66, 0xD9, 0x36, 0x00, 0x04,       /* o32 fnstenv [0400H] */
          0x66, 0xDD, 0x36, 0x00, 0x05,       /* o32 fnsave [0500H] */
          0x66, 0xDD, 0x26, 0x00, 0x05,       /* o32 frstor [0500H] */
          0xD9, 0x36, 0x00, 0x06,             /* fnstenv [0600H] */
          0xF4),
     DATA({0x10, D_1_5}, {0x20018, D_2_0}),
     FIELDS(/* Figure 8-12: FIP linear 1000BH, FOP 406H, FDP linear 20018H. */
            {0x100, 2, 0x037F}, {0x102, 2, SW}, {0x104, 2, TW}, {0x106, 2, 0x000B},
            {0x108, 2, 0x1406}, {0x10A, 2, 0x0018}, {0x10C, 2, 0x2000}, {0x10E, 1, UNTOUCHED},
            /* Figure 8-11: 32-bit real mode. */
            {0x200, 4, 0xFFFF037Fu}, {0x204, 4, 0xFFFF0000u | SW}, {0x208, 4, 0xFFFF0000u | TW},
            {0x20C, 4, 0xFFFF000Bu}, {0x210, 4, 0x00001406}, {0x214, 4, 0xFFFF0018u},
            {0x218, 4, 0x00002000}, {0x21C, 1, UNTOUCHED},
            {0x300 + 14, 8, 0xE000000000000000ull}, {0x300 + 22, 2, 0x4000}, {0x300 + 94, 1, UNTOUCHED},
            /* FRSTOR took the linear pointers back. */
            {0x40C, 4, 0xFFFF000Bu}, {0x410, 4, 0x00001406}, {0x414, 4, 0xFFFF0018u}, {0x418, 4, 0x00002000},
            {0x500 + 28, 8, 0xE000000000000000ull}, {0x500 + 108, 1, UNTOUCHED},
            {0x606, 2, 0x000B}, {0x608, 2, 0x1406}, {0x60A, 2, 0x0018}, {0x60C, 2, 0x2000})},
    {"long mode: FXSAVE/FXSAVE64, FXRSTOR64 of 64-bit pointers, XSAVE/XSAVE64", M_LONG,
     CODE(0xDB, 0xE3,                                     /* 0: fninit */
          0xDD, 0x04, 0x25, 0x10, 0x00, 0x04, 0x00,       /* 2: fld qword [0x40010] */
          0xDC, 0x04, 0x25, 0x18, 0x00, 0x04, 0x00,       /* 9: fadd qword [0x40018] */
          0x48, 0x0F, 0xAE, 0x04, 0x25, 0x00, 0x01, 0x04, 0x00, /* fxsave64 [0x40100] */
          0x0F, 0xAE, 0x04, 0x25, 0x00, 0x03, 0x04, 0x00,       /* fxsave [0x40300] */
          0x48, 0x0F, 0xAE, 0x0C, 0x25, 0x00, 0x05, 0x04, 0x00, /* fxrstor64 [0x40500] */
          0x48, 0x0F, 0xAE, 0x04, 0x25, 0x00, 0x07, 0x04, 0x00, /* fxsave64 [0x40700] */
          0x0F, 0xAE, 0x04, 0x25, 0x00, 0x09, 0x04, 0x00,       /* fxsave [0x40900] */
          0xD9, 0x34, 0x25, 0x00, 0x0B, 0x04, 0x00,             /* fnstenv [0x40B00] */
          0xB8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xD2,             /* mov eax, 1; xor edx, edx */
          0x48, 0x0F, 0xAE, 0x24, 0x25, 0x00, 0x0C, 0x04, 0x00, /* xsave64 [0x40C00] */
          0x0F, 0xAE, 0x24, 0x25, 0x00, 0x10, 0x04, 0x00,       /* xsave [0x41000] */
          0xDB, 0xE3,                                           /* fninit */
          0x48, 0x0F, 0xAE, 0x2C, 0x25, 0x00, 0x0C, 0x04, 0x00, /* xrstor64 [0x40C00] */
          0xD9, 0x34, 0x25, 0x00, 0x14, 0x04, 0x00,             /* fnstenv [0x41400] */
          0xF4),
     DATA({0x40010, D_1_5}, {0x40018, D_2_0},
          /* An FXSAVE64 image: FCW 037FH, FOP 7FFH, FIP 123456789ABCH, FDP FEDCBA9876543210H,
           * MXCSR 1F80H. */
          {0x40500, 0x07FF00000000037Full}, {0x40508, 0x0000123456789ABCull},
          {0x40510, 0xFEDCBA9876543210ull}, {0x40518, 0x1F80},
          /* XSAVE64's header: XSTATE_BV and the reserved bytes XRSTOR64 checks. */
          {0x40E00, 0}, {0x40E08, 0}, {0x40E10, 0}, {0x40E18, 0}, {0x40E20, 0}, {0x40E28, 0},
          {0x40E30, 0}, {0x40E38, 0}),
     FIELDS(/* Table 10-3 (REX.W): FOP 404H, 64-bit FIP and FDP. */
            {0x40100, 2, 0x037F}, {0x40102, 2, SW}, {0x40104, 1, 0x80}, {0x40106, 2, 0x404},
            {0x40108, 8, 0x10009}, {0x40110, 8, 0x40018},
            /* Table 10-2: FCS 08H and FDS 10H in the upper halves. */
            {0x40306, 2, 0x404}, {0x40308, 4, 0x10009}, {0x4030C, 4, 0x0008}, {0x40310, 4, 0x40018},
            {0x40314, 4, 0x0010},
            {0x40706, 2, 0x7FF}, {0x40708, 8, 0x123456789ABCull}, {0x40710, 8, 0xFEDCBA9876543210ull},
            {0x40908, 4, 0x56789ABC}, {0x4090C, 4, 0}, {0x40910, 4, 0x76543210}, {0x40914, 4, 0},
            {0x40B0C, 4, 0x56789ABC}, {0x40B10, 4, 0x07FF0000}, {0x40B14, 4, 0x76543210},
            {0x40B18, 4, 0xFFFF0000u},
            {0x40C08, 8, 0x123456789ABCull}, {0x40C10, 8, 0xFEDCBA9876543210ull},
            {0x41008, 4, 0x56789ABC}, {0x4100C, 4, 0}, {0x41010, 4, 0x76543210},
            {0x40E00, 8, 1}, /* XSTATE_BV: x87 in use */
            /* XRSTOR64 took the 64-bit pointers back (no selectors). */
            {0x4140C, 4, 0x56789ABC}, {0x41410, 4, 0x07FF0000}, {0x41414, 4, 0x76543210},
            {0x41418, 4, 0xFFFF0000u})},
};

static void set_sel(struct th *t, unsigned seg, uint16_t sel)
{
    struct seg s;
    cpu_get_seg(t->vp, seg, &s);
    s.sel = sel;
    cpu_set_seg(t->vp, seg, &s);
}

static void setup(struct th *t, unsigned mode)
{
    th_init(t);
    if (mode == M_REAL) {
        th_mode16(t);
    } else if (mode == M_PROT32) {
        th_mode32(t);
        set_sel(t, SEG_ES, 0x2B);
    } else {
        th_mode64(t);
        th_idt64(t);
        set_sel(t, SEG_CS, 0x08);
        set_sel(t, SEG_DS, 0x10);
        cpu_set_cr(t->vp, 4, cpu_get_cr(t->vp, 4) | (1u << 18)); /* OSXSAVE */
    }
}

Test(cpu_fpu_env, layouts_byte_by_byte)
{
    for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
        const struct env_case *c = &cases[k];
        struct th t;
        setup(&t, c->mode);
        uint32_t base = c->mode == M_REAL ? 0 : 0x40000;
        for (uint32_t a = base + 0x100; a < base + 0x1800; a++)
            th_wr(&t, a, UNTOUCHED, 1);
        for (const uint64_t(*d)[2] = c->data; (*d)[0]; d++)
            th_wr(&t, (*d)[0], (*d)[1], 8);
        th_load(&t, TH_CODE, c->code, c->len);
        cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT, "%s", c->name);
        cr_assert_eq(th_vector(&t), -1, "%s: vector %d", c->name, th_vector(&t));
        unsigned n = 0;
        for (const struct field *f = c->fields; f->size; f++, n++) {
            uint64_t got = th_rd(&t, f->at, f->size);
            cr_expect_eq(got, f->want, "%s: %u bytes at %#x: got %#llx want %#llx", c->name,
                         f->size, f->at, (unsigned long long)got, (unsigned long long)f->want);
        }
        printf("[fpu_env] %-70s %u fields\n", c->name, n);
        th_fini(&t);
    }
}

/* Control instructions keep the last pointers; FNINIT clears them (SDM Vol 1 8.1.8). */
Test(cpu_fpu_env, control_instructions_keep_pointers)
{
    static const uint8_t code[] = {
        0xDB, 0xE3,                               /* 0: fninit */
        0xDD, 0x04, 0x25, 0x10, 0x00, 0x04, 0x00, /* 2: fld qword [0x40010] */
        0xDB, 0xE2,                               /* fnclex */
        0xD9, 0x2C, 0x25, 0x20, 0x00, 0x04, 0x00, /* fldcw [0x40020] */
        0xD9, 0x3C, 0x25, 0x22, 0x00, 0x04, 0x00, /* fnstcw [0x40022] */
        0xDF, 0xE0,                               /* fnstsw ax */
        0x9B,                                     /* fwait */
        0xD9, 0x34, 0x25, 0x00, 0x01, 0x04, 0x00, /* fnstenv [0x40100] */
        0xD9, 0x24, 0x25, 0x00, 0x01, 0x04, 0x00, /* fldenv [0x40100] */
        0xD9, 0x34, 0x25, 0x00, 0x02, 0x04, 0x00, /* fnstenv [0x40200] */
        0xDB, 0xE3,                               /* fninit */
        0xD9, 0x34, 0x25, 0x00, 0x03, 0x04, 0x00, /* fnstenv [0x40300] */
        0xF4};
    struct th t;
    setup(&t, M_LONG);
    th_wr(&t, 0x40010, D_1_5, 8);
    th_wr(&t, 0x40020, 0x037F, 2);
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), -1);
    for (uint32_t env = 0x40100; env <= 0x40200; env += 0x100) {
        cr_expect_eq(th_rd(&t, env + 12, 4), 0x10002, "FIP (%#x)", env);
        cr_expect_eq(th_rd(&t, env + 16, 4), 0x05040008, "FOP:FCS (%#x)", env);
        cr_expect_eq(th_rd(&t, env + 20, 4), 0x40010, "FDP (%#x)", env);
    }
    for (unsigned off = 12; off < 28; off += 4)
        cr_expect_eq(th_rd(&t, 0x40300 + off, 4), off == 24 ? 0xFFFF0000u : 0u, "after FNINIT +%u", off);
    th_fini(&t);
}

/* XGETBV: ECX=0 XCR0; ECX=1 XCR0 AND XINUSE exactly when CPUID.(EAX=0DH,ECX=1):EAX[2]
 * advertises it, else #GP(0); other ECX values and XSETBV with ECX != 0 #GP(0). */
Test(cpu_fpu_env, xgetbv_ecx)
{
    uint8_t xgetbv[] = {0xDB, 0xE3,                   /* fninit */
                        0xB9, 0x01, 0x00, 0x00, 0x00, /* mov ecx, 1 */
                        0x0F, 0x01, 0xD0,             /* xgetbv */
                        0x89, 0x04, 0x25, 0x00, 0x00, 0x04, 0x00, /* mov [0x40000], eax */
                        0xD9, 0xE8,                   /* fld1 */
                        0x0F, 0x01, 0xD0,             /* xgetbv */
                        0x89, 0x04, 0x25, 0x04, 0x00, 0x04, 0x00, /* mov [0x40004], eax */
                        0xF4};
    struct th t;
    setup(&t, M_LONG);
    uint32_t leaf[4];
    cpu_cpuid_default(t.vp, 0xd, 1, leaf);
    th_load(&t, TH_CODE, xgetbv, sizeof(xgetbv));
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    if (leaf[0] & 4) {
        cr_expect_eq(th_vector(&t), -1);
        cr_expect_eq(th_rd(&t, 0x40000, 4), 0, "x87 and SSE initial: XINUSE 0");
        cr_expect_eq(th_rd(&t, 0x40004, 4), 1, "after FLD1: x87 in use");
    } else {
        cr_expect_eq(th_vector(&t), 13, "XGETBV ECX=1 without CPUID.(0DH,1):EAX[2]");
    }
    th_fini(&t);

    static const struct { uint32_t ecx; bool set; } bad[] = {
        {2, false}, {0xFFFFFFFFu, false}, {0x80000000u, false}, {1, true}, {2, true}};
    for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
        uint8_t code[] = {0xB9, 0, 0, 0, 0, 0xB8, 0x03, 0, 0, 0, 0x31, 0xD2, 0x0F, 0x01,
                          (uint8_t)(bad[k].set ? 0xD1 : 0xD0), 0xF4};
        memcpy(code + 1, &bad[k].ecx, 4);
        setup(&t, M_LONG);
        th_load(&t, TH_CODE, code, sizeof(code));
        cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
        cr_expect_eq(th_vector(&t), 13, "%s ECX=%#x", bad[k].set ? "xsetbv" : "xgetbv", bad[k].ecx);
        th_fini(&t);
    }
}
