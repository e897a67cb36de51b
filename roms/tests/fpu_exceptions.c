/* FPU/SIMD exception delivery seen from the guest: #NM for CR0.TS/EM, #UD for SSE without
 * CR4.OSFXSR or with CR0.EM, deferred #MF for unmasked x87 exceptions (CR0.NE=1) and FNCLEX,
 * #XM/#UD for unmasked SSE exceptions by CR4.OSXMMEXCPT, masked default results and sticky
 * flags, and MXCSR.DAZ/FTZ on denormals (SDM Vol 1 8.4-8.7, 11.5; Vol 3 2.5, 13.1). */
#include "guest.h"

#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)

#define V_UD (TRAP_CAUGHT | 6)
#define V_NM (TRAP_CAUGHT | 7)
#define V_MF (TRAP_CAUGHT | 16)
#define V_XM (TRAP_CAUGHT | 19)

#define FSW_IE 0x0001u
#define FSW_ZE 0x0004u
#define FSW_ES 0x0080u
#define FSW_B 0x8000u

#define MX_IE 0x0001u
#define MX_DE 0x0002u
#define MX_ZE 0x0004u
#define MX_UE 0x0010u
#define MX_PE 0x0020u
#define MX_DAZ 0x0040u
#define MX_ZM 0x0200u
#define MX_FTZ 0x8000u
#define MX_RESET 0x1f80u

static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }
static inline void clts(void) { __asm__ volatile("clts" ::: "memory"); }

static uint8_t fx_area[512] __attribute__((aligned(16)));

static uint16_t fnstsw(void)
{
    uint16_t w;
    __asm__ volatile("fnstsw %0" : "=a"(w));
    return w;
}
static uint32_t stmxcsr(void)
{
    uint32_t m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return m;
}
static void ldmxcsr(uint32_t m) { __asm__ volatile("ldmxcsr %0" ::"m"(m)); }
static void fldcw(uint16_t cw) { __asm__ volatile("fldcw %0" ::"m"(cw)); }

/* Instructions run under try_call. */
static void do_fld1(void *p) { (void)p; __asm__ volatile("fld1\n\tfstp %%st(0)" ::: "memory"); }
static void do_fninit(void *p) { (void)p; __asm__ volatile("fninit" ::: "memory"); }
static void do_fwait(void *p) { (void)p; __asm__ volatile("fwait" ::: "memory"); }
static void do_xorps(void *p) { (void)p; __asm__ volatile("xorps %%xmm0, %%xmm0" ::: "memory"); }
static void do_addps(void *p) { (void)p; __asm__ volatile("addps %%xmm1, %%xmm0" ::: "memory"); }
static void do_fxsave(void *p) { (void)p; __asm__ volatile("fxsave %0" : "=m"(fx_area)); }
static void do_stmxcsr(void *p) { *(uint32_t *)p = stmxcsr(); }

/* The x87 divide st(1)/st(0) of two doubles, popped into *r (left alone when it faults). */
struct x87_div { uint64_t a, b, r; };
static void do_x87_div(void *p)
{
    struct x87_div *d = p;
    __asm__ volatile("fldl %1\n\tfldl %2\n\t.byte 0xde, 0xf9 /* fdivp st(1), st(0): st1 / st0 */\n\tfstpl %0" : "=m"(d->r) : "m"(d->a), "m"(d->b) : "memory");
}
/* Divide without storing: the unmasked exception stays pending for the next waiting insn. */
static void x87_div_pending(uint64_t a, uint64_t b)
{
    __asm__ volatile("fldl %0\n\tfldl %1\n\t.byte 0xde, 0xf9" ::"m"(a), "m"(b) : "memory");
}

/* A scalar SSE operation on single-precision bit patterns under a given MXCSR. */
enum sse_op { OP_DIV, OP_ADD, OP_MUL };
struct sse_case { enum sse_op op; uint32_t a, b, mx_in, r; };
static void do_sse(void *p)
{
    struct sse_case *s = p;
    uint32_t r;
    __asm__ volatile("ldmxcsr %0\n\tmovd %1, %%xmm0\n\tmovd %2, %%xmm1" ::"m"(s->mx_in), "r"(s->a),
                     "r"(s->b) : "memory");
    if (s->op == OP_DIV)
        __asm__ volatile("divss %%xmm1, %%xmm0" ::: "memory");
    else if (s->op == OP_ADD)
        __asm__ volatile("addss %%xmm1, %%xmm0" ::: "memory");
    else
        __asm__ volatile("mulss %%xmm1, %%xmm0" ::: "memory");
    __asm__ volatile("movd %%xmm0, %0" : "=r"(r));
    s->r = r;
}

static void test_ts(uint64_t cr0)
{
    write_cr0((cr0 & ~CR0_EM) | CR0_TS | CR0_MP);
    CHECK_EQ("ts: x87 fld1 -> #NM", try_call(do_fld1, NULL), V_NM);
    CHECK_EQ("ts: fninit -> #NM", try_call(do_fninit, NULL), V_NM);
    CHECK_EQ("ts+mp: fwait -> #NM", try_call(do_fwait, NULL), V_NM);
    CHECK_EQ("ts: sse xorps -> #NM", try_call(do_xorps, NULL), V_NM);
    CHECK_EQ("ts: sse addps -> #NM", try_call(do_addps, NULL), V_NM);
    CHECK_EQ("ts: fxsave -> #NM", try_call(do_fxsave, NULL), V_NM);
    uint32_t m = 0;
    CHECK_EQ("ts: stmxcsr -> #NM", try_call(do_stmxcsr, &m), V_NM);
    /* MP=0: WAIT ignores TS (SDM Vol 3 Table 2-2). */
    write_cr0((cr0 & ~(CR0_EM | CR0_MP)) | CR0_TS);
    CHECK_EQ("ts, mp=0: fwait runs", try_call(do_fwait, NULL), 0);
    clts();
    CHECK("clts: ts clear", !(read_cr0() & CR0_TS));
    CHECK_EQ("clts: fld1 runs", try_call(do_fld1, NULL), 0);
    CHECK_EQ("clts: xorps runs", try_call(do_xorps, NULL), 0);
    CHECK_EQ("clts: fxsave runs", try_call(do_fxsave, NULL), 0);
    CHECK_EQ("clts: fxsave wrote fcw", fx_area[0] | (fx_area[1] << 8), 0x037f);
    write_cr0(cr0);
}

static void test_em(uint64_t cr0)
{
    write_cr0((cr0 & ~CR0_TS) | CR0_EM);
    CHECK_EQ("em: fld1 -> #NM", try_call(do_fld1, NULL), V_NM);
    CHECK_EQ("em: fninit -> #NM", try_call(do_fninit, NULL), V_NM);
    CHECK_EQ("em: xorps -> #UD", try_call(do_xorps, NULL), V_UD);
    CHECK_EQ("em: addps -> #UD", try_call(do_addps, NULL), V_UD);
    /* EM with TS: x87 still #NM, SSE #UD (EM is checked first for SSE). */
    write_cr0(cr0 | CR0_EM | CR0_TS);
    CHECK_EQ("em+ts: fld1 -> #NM", try_call(do_fld1, NULL), V_NM);
    CHECK_EQ("em+ts: xorps -> #UD", try_call(do_xorps, NULL), V_UD);
    write_cr0(cr0);
    CHECK_EQ("em clear: fld1 runs", try_call(do_fld1, NULL), 0);
}

static void test_osfxsr(uint64_t cr4)
{
    write_cr4(cr4 & ~(CR4_OSFXSR | CR4_OSXMMEXCPT));
    CHECK_EQ("osfxsr=0: xorps -> #UD", try_call(do_xorps, NULL), V_UD);
    CHECK_EQ("osfxsr=0: addps -> #UD", try_call(do_addps, NULL), V_UD);
    uint32_t m = 0;
    CHECK_EQ("osfxsr=0: stmxcsr -> #UD", try_call(do_stmxcsr, &m), V_UD);
    CHECK_EQ("osfxsr=0: x87 still runs", try_call(do_fld1, NULL), 0);
    write_cr4(cr4);
    CHECK_EQ("osfxsr=1: xorps runs", try_call(do_xorps, NULL), 0);
}

static void test_mf(uint64_t cr0)
{
    write_cr0(cr0 | CR0_NE);
    __asm__ volatile("fninit");
    fldcw(0x037f & ~FSW_ZE); /* ZM clear */
    x87_div_pending(0x3ff0000000000000ull, 0); /* 1.0 / 0.0 */
    uint16_t sw = fnstsw(); /* no-wait: must not trap */
    CHECK("mf: fsw ze set", sw & FSW_ZE);
    CHECK("mf: fsw es set", sw & FSW_ES);
    CHECK("mf: fsw b set", sw & FSW_B);
    CHECK_EQ("mf: fwait -> #MF", try_call(do_fwait, NULL), V_MF);
    CHECK_EQ("mf: still pending, fld1 -> #MF", try_call(do_fld1, NULL), V_MF);
    CHECK("mf: fsw unchanged by the fault", fnstsw() & FSW_ES);
    __asm__ volatile("fnclex");
    sw = fnstsw();
    CHECK_EQ("fnclex: exception flags clear", sw & (0x3f | FSW_ES | FSW_B), 0);
    CHECK_EQ("fnclex: fwait runs", try_call(do_fwait, NULL), 0);
    /* Invalid operation unmasked: 0/0. */
    __asm__ volatile("fninit");
    fldcw(0x037f & ~FSW_IE);
    x87_div_pending(0, 0);
    sw = fnstsw();
    CHECK("mf: 0/0 sets ie and es", (sw & (FSW_IE | FSW_ES)) == (FSW_IE | FSW_ES));
    CHECK_EQ("mf: 0/0 then fwait -> #MF", try_call(do_fwait, NULL), V_MF);
    /* FLDCW that unmasks an already-flagged exception makes it pending too. */
    __asm__ volatile("fninit");
    x87_div_pending(0x3ff0000000000000ull, 0);
    CHECK_EQ("masked zd: no es", fnstsw() & FSW_ES, 0);
    CHECK_EQ("masked zd: fwait runs", try_call(do_fwait, NULL), 0);
    __asm__ volatile("fninit");
    write_cr0(cr0);
}

static void test_x87_masked(void)
{
    __asm__ volatile("fninit");
    struct x87_div d = {0x3ff0000000000000ull, 0, 0};
    CHECK_EQ("x87 masked 1/0 runs", try_call(do_x87_div, &d), 0);
    CHECK_EQ("x87 masked 1/0 = +inf", d.r, 0x7ff0000000000000ull);
    uint16_t sw = fnstsw();
    CHECK("x87 masked 1/0: ze sticky", sw & FSW_ZE);
    CHECK_EQ("x87 masked 1/0: no es", sw & FSW_ES, 0);
    d = (struct x87_div){0xbff0000000000000ull, 0, 0};
    CHECK_EQ("x87 masked -1/0 runs", try_call(do_x87_div, &d), 0);
    CHECK_EQ("x87 masked -1/0 = -inf", d.r, 0xfff0000000000000ull);
    __asm__ volatile("fnclex");
    d = (struct x87_div){0, 0, 0};
    CHECK_EQ("x87 masked 0/0 runs", try_call(do_x87_div, &d), 0);
    CHECK_EQ("x87 masked 0/0 = qnan indefinite", d.r, 0xfff8000000000000ull);
    sw = fnstsw();
    CHECK("x87 masked 0/0: ie sticky", sw & FSW_IE);
    CHECK_EQ("x87 masked 0/0: ze not set", sw & FSW_ZE, 0);
    __asm__ volatile("fninit");
}

static void test_xm(uint64_t cr4)
{
    write_cr4(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
    struct sse_case s = {OP_DIV, 0x3f800000, 0, MX_RESET & ~MX_ZM, 0x12345678};
    CHECK_EQ("xm: unmasked divss 1/0 -> #XM", try_call(do_sse, &s), V_XM);
    CHECK_EQ("xm: destination unchanged", s.r, 0x12345678);
    uint32_t m = stmxcsr();
    CHECK("xm: mxcsr ze set", m & MX_ZE);
    ldmxcsr(MX_RESET);
    write_cr4((cr4 | CR4_OSFXSR) & ~CR4_OSXMMEXCPT);
    s = (struct sse_case){OP_DIV, 0x3f800000, 0, MX_RESET & ~MX_ZM, 0x12345678};
    CHECK_EQ("osxmmexcpt=0: unmasked divss 1/0 -> #UD", try_call(do_sse, &s), V_UD);
    CHECK("osxmmexcpt=0: mxcsr ze set", stmxcsr() & MX_ZE);
    ldmxcsr(MX_RESET);
    s = (struct sse_case){OP_DIV, 0x3f800000, 0x40000000, MX_RESET & ~MX_ZM, 0};
    CHECK_EQ("osxmmexcpt=0: exact divss runs", try_call(do_sse, &s), 0);
    CHECK_EQ("osxmmexcpt=0: 1/2 = 0.5", s.r, 0x3f000000);
    write_cr4(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
    ldmxcsr(MX_RESET);
}

static void test_sse_masked(void)
{
    struct sse_case s = {OP_DIV, 0x3f800000, 0, MX_RESET, 0};
    CHECK_EQ("sse masked 1/0 runs", try_call(do_sse, &s), 0);
    CHECK_EQ("sse masked 1/0 = +inf", s.r, 0x7f800000);
    uint32_t m = stmxcsr();
    CHECK("sse masked 1/0: ze sticky", m & MX_ZE);
    CHECK_EQ("sse masked 1/0: ie clear", m & MX_IE, 0);
    s = (struct sse_case){OP_DIV, 0, 0, MX_RESET, 0};
    CHECK_EQ("sse masked 0/0 runs", try_call(do_sse, &s), 0);
    CHECK_EQ("sse masked 0/0 = qnan indefinite", s.r, 0xffc00000);
    CHECK("sse masked 0/0: ie sticky", stmxcsr() & MX_IE);
    /* Sticky: a later exact operation leaves the flags set. */
    s = (struct sse_case){OP_ADD, 0x3f800000, 0x3f800000, MX_RESET | MX_IE | MX_ZE, 0};
    CHECK_EQ("sse exact add runs", try_call(do_sse, &s), 0);
    CHECK_EQ("sse 1+1 = 2", s.r, 0x40000000);
    CHECK_EQ("sse flags stay sticky", stmxcsr() & (MX_IE | MX_ZE), MX_IE | MX_ZE);
    ldmxcsr(MX_RESET);
}

static void test_daz_ftz(void)
{
    /* Denormal source: 0x1 (smallest subnormal) + 0. */
    struct sse_case s = {OP_ADD, 0x00000001, 0, MX_RESET, 0};
    try_call(do_sse, &s);
    CHECK_EQ("no daz: denormal + 0 = denormal", s.r, 0x00000001);
    CHECK("no daz: de flag", stmxcsr() & MX_DE);
    s = (struct sse_case){OP_ADD, 0x00000001, 0, MX_RESET | MX_DAZ, 0xffffffff};
    try_call(do_sse, &s);
    CHECK_EQ("daz: denormal + 0 = +0", s.r, 0);
    CHECK_EQ("daz: no de flag", stmxcsr() & MX_DE, 0);
    s = (struct sse_case){OP_ADD, 0x80000001, 0x3f800000, MX_RESET | MX_DAZ, 0};
    try_call(do_sse, &s);
    CHECK_EQ("daz: -denormal + 1 = 1 exactly", s.r, 0x3f800000);
    CHECK_EQ("daz: no pe flag", stmxcsr() & MX_PE, 0);
    /* Tiny result: min normal * 0.5 = 0x00400000 (exact, no underflow flag when masked+exact). */
    s = (struct sse_case){OP_MUL, 0x00800000, 0x3f000000, MX_RESET, 0};
    try_call(do_sse, &s);
    CHECK_EQ("no ftz: tiny exact result is subnormal", s.r, 0x00400000);
    s = (struct sse_case){OP_MUL, 0x00800000, 0x3f000000, MX_RESET | MX_FTZ, 0xffffffff};
    try_call(do_sse, &s);
    CHECK_EQ("ftz: tiny result flushed to +0", s.r, 0);
    uint32_t m = stmxcsr();
    CHECK_EQ("ftz: ue and pe set", m & (MX_UE | MX_PE), MX_UE | MX_PE);
    s = (struct sse_case){OP_MUL, 0x80800000, 0x3f000000, MX_RESET | MX_FTZ, 0};
    try_call(do_sse, &s);
    CHECK_EQ("ftz: negative tiny flushed to -0", s.r, 0x80000000);
    ldmxcsr(MX_RESET);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    serial_init();
    printf("fpu_exceptions: #NM/#UD/#MF/#XM delivery and masked responses\n");
    uint64_t cr0 = (read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE;
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    write_cr0(cr0);
    write_cr4(cr4);
    __asm__ volatile("fninit");
    ldmxcsr(MX_RESET);

    test_ts(cr0);
    test_em(cr0);
    test_osfxsr(cr4);
    test_mf(cr0);
    test_x87_masked();
    test_xm(cr4);
    test_sse_masked();
    test_daz_ftz();
    test_finish();
}
