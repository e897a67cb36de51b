/* Segment limit and access-rights checks on data accesses (SDM Vol 3 5.3-5.4) in 32-bit
 * protected, real and compatibility mode, none in 64-bit mode, and the CS limit on fetch. */
#include <criterion/criterion.h>
#include <setjmp.h>

#include "cpu/ops.h"
#include "cpu/seglimit.h"
#include "cpu/vcpu.h"
#include "harness.h"

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define MAGIC 0x11223344u
#define STORE 0xcafef00du
#define NOFAULT (-1)

/* 32-bit interrupt gates to selector 0x08 for vectors 0-31, each handler a HLT at
 * TH_HANDLER + 16 * vector, so th_vector() names the vector taken. */
static void idt32(struct th *t)
{
    for (uint32_t v = 0; v < 32; v++) {
        uint32_t h = (uint32_t)TH_HANDLER + 16 * v;
        th_wr(t, h, 0xf4, 1);
        uint64_t g = (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | ((uint64_t)(h >> 16) << 48);
        th_wr(t, TH_IDT + 8 * v, g, 8);
    }
    struct dtr d = {TH_IDT, 8 * 32 - 1};
    cpu_set_dtr(t->vp, true, &d);
}

/* Real-mode IVT: vector v -> 0000:TH_HANDLER + 16 * v. */
static void ivt16(struct th *t)
{
    for (uint32_t v = 0; v < 32; v++) {
        uint32_t h = (uint32_t)TH_HANDLER + 16 * v;
        th_wr(t, h, 0xf4, 1);
        th_wr(t, 4 * v, h, 4);
    }
}

enum mode { M32, M16, MCOMPAT, M64 };

struct acc_case {
    const char *name;
    enum mode mode;
    unsigned seg;       /* segment register given the cache below */
    struct seg s;
    const uint8_t *code;
    unsigned len;
    uint32_t ebx, esi, edi, ecx, esp; /* 0: leave as set up (esp: TH_STACK) */
    int vec;            /* expected vector, or NOFAULT (then the code ends with HLT) */
    uint32_t off;       /* offset of the faulting instruction */
    uint32_t lin;       /* NOFAULT: the linear address read (EAX = MAGIC) or written (STORE) */
    bool write;
};

#define RD(...) CODE(__VA_ARGS__, 0x8b, 0x03, 0xf4)   /* <prefixes> mov eax, [ebx]; hlt */
#define WR(...) CODE(__VA_ARGS__, 0x89, 0x03, 0xf4)   /* <prefixes> mov [ebx], eax; hlt */
#define DS_ 0x3e
#define CS_ 0x2e
#define SS_ 0x36
#define FS_ 0x64
#define GS_ 0x65
#define O16 0x66

static const struct acc_case acc_cases[] = {
    /* Expand-up data: base added, last byte at the limit allowed, one beyond faults. */
    {"ds_base", M32, SEG_DS, {0x10, 0x1000, 0xffff, 0x4093}, RD(DS_), .ebx = 0x40100, .vec = 13},
    {"ds_base_in_limit", M32, SEG_DS, {0x10, 0x1000, 0x4ffff, 0x4093}, RD(DS_), .ebx = 0x40100,
     .vec = NOFAULT, .lin = 0x41100},
    {"ds_last_dword", M32, SEG_DS, {0x10, 0x40000, 0xfff, 0x4093}, RD(DS_), .ebx = 0xffc,
     .vec = NOFAULT, .lin = 0x40ffc},
    {"ds_dword_straddles_limit", M32, SEG_DS, {0x10, 0x40000, 0xfff, 0x4093}, RD(DS_),
     .ebx = 0xffd, .vec = 13},
    {"ds_word_straddles_limit", M32, SEG_DS, {0x10, 0x40000, 0xfff, 0x4093}, RD(O16, DS_),
     .ebx = 0xfff, .vec = 13},
    {"ds_beyond_limit_write", M32, SEG_DS, {0x10, 0x40000, 0xfff, 0x4093}, WR(DS_),
     .ebx = 0x1000, .vec = 13},
    {"ds_in_limit_write", M32, SEG_DS, {0x10, 0x40000, 0xfff, 0x4093}, WR(DS_), .ebx = 0x800,
     .vec = NOFAULT, .lin = 0x40800, .write = true},
    /* Types: read-only data, code in a data register, null. */
    {"ds_readonly_read", M32, SEG_DS, {0x10, 0, 0xfffff, 0x4091}, RD(DS_), .ebx = 0x40000,
     .vec = NOFAULT, .lin = 0x40000},
    {"ds_readonly_write", M32, SEG_DS, {0x10, 0, 0xfffff, 0x4091}, WR(DS_), .ebx = 0x40000,
     .vec = 13},
    {"ds_readonly_4g_write", M32, SEG_DS, {0x10, 0, 0xffffffff, 0xc091}, WR(DS_),
     .ebx = 0x40000, .vec = 13},
    {"ds_readable_code_read", M32, SEG_DS, {0x08, 0, 0xffffffff, 0xc09b}, RD(DS_),
     .ebx = 0x40000, .vec = NOFAULT, .lin = 0x40000},
    {"ds_code_write", M32, SEG_DS, {0x08, 0, 0xffffffff, 0xc09b}, WR(DS_), .ebx = 0x40000,
     .vec = 13},
    {"ds_null_read", M32, SEG_DS, {0, 0, 0, 1u << 16}, RD(DS_), .ebx = 0x40000, .vec = 13},
    {"es_null_write", M32, SEG_ES, {0, 0, 0, 1u << 16}, WR(0x26), .ebx = 0x40000, .vec = 13},
    /* CS as a data segment: execute-only code cannot be read, code never written. */
    {"cs_execonly_read", M32, SEG_CS, {0x08, 0, 0xffffffff, 0xc099}, RD(CS_), .ebx = 0x40000,
     .vec = 13},
    {"cs_read_in_limit", M32, SEG_CS, {0x08, 0, 0xfffff, 0x409b}, RD(CS_), .ebx = 0xffffc,
     .vec = NOFAULT, .lin = 0xffffc},
    {"cs_read_straddles_limit", M32, SEG_CS, {0x08, 0, 0xfffff, 0x409b}, RD(CS_),
     .ebx = 0xffffd, .vec = 13},
    {"cs_write", M32, SEG_CS, {0x08, 0, 0xfffff, 0x409b}, WR(CS_), .ebx = 0x40000, .vec = 13},
    /* Expand-down: valid offsets are limit+1 .. 0xFFFFFFFF (B=1) or 0xFFFF (B=0). */
    {"ed32_above_limit", M32, SEG_DS, {0x10, 0x1000, 0xfff, 0x4097}, RD(DS_), .ebx = 0x3f000,
     .vec = NOFAULT, .lin = 0x40000},
    {"ed32_at_limit", M32, SEG_DS, {0x10, 0x1000, 0xfff, 0x4097}, RD(DS_), .ebx = 0xfff,
     .vec = 13},
    {"ed32_straddles_limit", M32, SEG_DS, {0x10, 0x1000, 0xfff, 0x4097}, RD(DS_), .ebx = 0xffe,
     .vec = 13},
    {"ed32_top_wraps", M32, SEG_DS, {0x10, 0x41000, 0xfff, 0x4097}, RD(DS_), .ebx = 0xfffff000,
     .vec = NOFAULT, .lin = 0x40000},
    {"ed32_straddles_top", M32, SEG_DS, {0x10, 0x41000, 0xfff, 0x4097}, RD(DS_),
     .ebx = 0xfffffffd, .vec = 13},
    {"ed16_top", M32, SEG_DS, {0x10, 0x30000, 0xfff, 0x0097}, RD(DS_), .ebx = 0xfffc,
     .vec = NOFAULT, .lin = 0x3fffc},
    {"ed16_straddles_top", M32, SEG_DS, {0x10, 0x30000, 0xfff, 0x0097}, RD(DS_), .ebx = 0xfffd,
     .vec = 13},
    {"ed16_beyond_top", M32, SEG_DS, {0x10, 0x30000, 0xfff, 0x0097}, RD(DS_), .ebx = 0x10000,
     .vec = 13},
    {"ed_readonly_write", M32, SEG_DS, {0x10, 0x1000, 0xfff, 0x4095}, WR(DS_), .ebx = 0x3f000,
     .vec = 13},
    /* Other registers; a base that wraps the 32-bit linear space. */
    {"fs_base", M32, SEG_FS, {0x10, 0x2000, 0xffffffff, 0xc093}, RD(FS_), .ebx = 0x3e000,
     .vec = NOFAULT, .lin = 0x40000},
    {"gs_limit", M32, SEG_GS, {0x10, 0x2000, 0xffff, 0x4093}, RD(GS_), .ebx = 0x10000,
     .vec = 13},
    {"ds_base_wraps", M32, SEG_DS, {0x10, 0xfffff000, 0xffffffff, 0xc093}, RD(DS_),
     .ebx = 0x41000, .vec = NOFAULT, .lin = 0x40000},
    /* SS-relative violations raise #SS(0): explicit, implicit (EBP base), and POP. */
    {"ss_in_limit", M32, SEG_SS, {0x10, 0, 0x8ffff, 0x4093}, RD(SS_), .ebx = 0x8fffc,
     .vec = NOFAULT, .lin = 0x8fffc},
    {"ss_straddles_limit", M32, SEG_SS, {0x10, 0, 0x8ffff, 0x4093}, RD(SS_), .ebx = 0x8fffd,
     .vec = 12},
    {"ss_ebp_beyond_limit", M32, SEG_SS, {0x10, 0, 0x8ffff, 0x4093},
     CODE(0x89, 0xdd, 0x8b, 0x45, 0x00, 0xf4), .ebx = 0x90000, .vec = 12, .off = 2},
    {"ds_ebp_override", M32, SEG_DS, {0x10, 0, 0x8ffff, 0x4093},
     CODE(0x89, 0xdd, 0x3e, 0x8b, 0x45, 0x00, 0xf4), .ebx = 0x90000, .vec = 13, .off = 2},
    {"ss_pop_straddles_limit", M32, SEG_SS, {0x10, 0, 0x7ffff, 0x4093}, CODE(0x58, 0xf4),
     .esp = 0x7fffe, .vec = 12},
    {"ss_expand_down_below", M32, SEG_SS, {0x10, 0, 0x7ffef, 0x4097}, RD(SS_), .ebx = 0x7ffe0,
     .vec = 12},
    {"ss_expand_down_above", M32, SEG_SS, {0x10, 0, 0x7ffef, 0x4097}, RD(SS_), .ebx = 0x7fff0,
     .vec = NOFAULT, .lin = 0x7fff0},
    {"ss_push_in_limit", M32, SEG_SS, {0x10, 0, 0x7ffff, 0x4093}, CODE(0x53, 0x58, 0xf4),
     .ebx = MAGIC, .esp = 0x7fff0, .vec = NOFAULT, .lin = 0x7ffec, .write = true},
    /* String instructions: ES for the destination; REP stops at the element that faults. */
    {"stos_es_limit", M32, SEG_ES, {0x10, 0, 0x40003, 0x4093}, CODE(0xab, 0xf4), .edi = 0x40001,
     .vec = 13},
    {"movs_ds_limit", M32, SEG_DS, {0x10, 0, 0x40003, 0x4093}, CODE(0xa5, 0xf4), .esi = 0x40001,
     .edi = 0x50000, .vec = 13},
    /* Real mode: the cached limit is checked, the type is not (CS can be written). */
    {"real_word_at_ffff", M16, SEG_DS, {0, 0, 0xffff, 0x93}, CODE(0x8b, 0x07, 0xf4),
     .ebx = 0xffff, .vec = 13},
    {"real_last_dword", M16, SEG_DS, {0x4000, 0x40000, 0xffff, 0x93},
     CODE(0x66, 0x8b, 0x07, 0xf4), .ebx = 0xfffc, .vec = NOFAULT, .lin = 0x4fffc},
    {"real_addr32_beyond", M16, SEG_DS, {0, 0, 0xffff, 0x93}, CODE(0x67, 0x8b, 0x03, 0xf4),
     .ebx = 0x10000, .vec = 13},
    {"real_stack_beyond", M16, SEG_SS, {0, 0, 0xffff, 0x93}, CODE(0x36, 0x67, 0x8b, 0x03, 0xf4),
     .ebx = 0x10000, .vec = 12},
    {"real_cs_write", M16, SEG_CS, {TH_CODE >> 4, TH_CODE, 0xffff, 0x9b},
     CODE(0x2e, 0x66, 0x89, 0x07, 0xf4), .ebx = 0x100, .vec = NOFAULT, .lin = TH_CODE + 0x100,
     .write = true},
    {"unreal_flat", M16, SEG_DS, {0, 0, 0xffffffff, 0x93}, CODE(0x66, 0x67, 0x8b, 0x03, 0xf4),
     .ebx = 0x40000, .vec = NOFAULT, .lin = 0x40000},
    {"unreal_based", M16, SEG_DS, {0x100, 0x1000, 0xffffffff, 0x93},
     CODE(0x66, 0x67, 0x8b, 0x03, 0xf4), .ebx = 0x3f000, .vec = NOFAULT, .lin = 0x40000},
    /* Compatibility mode checks as protected mode does; 64-bit mode checks nothing. */
    {"compat_limit", MCOMPAT, SEG_DS, {0x10, 0x1000, 0xfff, 0x4093}, RD(DS_), .ebx = 0x1000,
     .vec = 13},
    {"compat_base", MCOMPAT, SEG_DS, {0x10, 0x1000, 0x4ffff, 0x4093}, RD(DS_), .ebx = 0x3f000,
     .vec = NOFAULT, .lin = 0x40000},
    {"compat_null_ds", MCOMPAT, SEG_DS, {0, 0, 0, 1u << 16}, RD(DS_), .ebx = 0x40000,
     .vec = 13},
    {"long_no_limit", M64, SEG_DS, {0x10, 0x1000, 0xfff, 0x4091}, WR(DS_), .ebx = 0x40000,
     .vec = NOFAULT, .lin = 0x40000, .write = true},
    {"long_null_ds", M64, SEG_DS, {0, 0, 0, 1u << 16}, RD(DS_), .ebx = 0x40000, .vec = NOFAULT,
     .lin = 0x40000},
    {"long_fs_base_no_limit", M64, SEG_FS, {0x10, 0x2000, 0, 0x4091}, WR(FS_), .ebx = 0x3e000,
     .vec = NOFAULT, .lin = 0x40000, .write = true},
};

static void setup(struct th *t, enum mode m)
{
    th_init(t);
    switch (m) {
    case M32:
        th_mode32(t);
        idt32(t);
        break;
    case M16:
        th_mode16(t);
        ivt16(t);
        break;
    case MCOMPAT: {
        th_mode64(t);
        th_idt64(t);
        struct seg cs = {0x20, 0, 0xffffffff, 0xc09b};
        cpu_set_seg(t->vp, SEG_CS, &cs);
        break;
    }
    case M64:
        th_mode64(t);
        th_idt64(t);
        break;
    }
}

/* The exception frame's error code and return address: 64-bit frames in long mode, 16-bit
 * (IP, no error code) in real mode. */
static void frame(struct th *t, enum mode m, unsigned vec, uint32_t *err, uint64_t *ip)
{
    struct seg ss;
    cpu_get_seg(t->vp, SEG_SS, &ss);
    uint64_t sp = ss.base + (cpu_get_gpr(t->vp, REG_RSP) & (m == M16 ? 0xffff : ~0ull));
    bool has_err = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
    if (m == M16) {
        *err = 0;
        *ip = th_rd(t, sp, 2);
        return;
    }
    unsigned w = (m == M32) ? 4 : 8;
    *err = has_err ? (uint32_t)th_rd(t, sp, 4) : 0;
    *ip = th_rd(t, sp + (has_err ? w : 0), w);
}

Test(cpu_seglimit, data_access_table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(acc_cases); k++) {
        const struct acc_case *c = &acc_cases[k];
        struct th t;
        setup(&t, c->mode);
        uint64_t code_at = TH_CODE;
        th_load(&t, code_at, c->code, c->len);
        if (c->lin && !c->write)
            th_wr(&t, c->lin, MAGIC, 4);
        cpu_set_gpr(t.vp, REG_RAX, STORE);
        cpu_set_gpr(t.vp, REG_RBX, c->ebx);
        cpu_set_gpr(t.vp, REG_RSI, c->esi);
        cpu_set_gpr(t.vp, REG_RDI, c->edi);
        cpu_set_gpr(t.vp, REG_RCX, c->ecx);
        if (c->esp)
            cpu_set_gpr(t.vp, REG_RSP, c->esp);
        cpu_set_seg(t.vp, c->seg, &c->s);
        cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT, "%s: did not halt", c->name);
        if (c->vec == NOFAULT) {
            cr_assert_eq(th_vector(&t), -1, "%s: unexpected vector %d", c->name, th_vector(&t));
            if (c->write)
                cr_assert_eq(th_rd(&t, c->lin, 4), c->ebx == MAGIC ? MAGIC : STORE,
                             "%s: memory at %#x", c->name, c->lin);
            else
                cr_assert_eq((uint32_t)cpu_get_gpr(t.vp, REG_RAX), MAGIC, "%s: eax %#x", c->name,
                             (uint32_t)cpu_get_gpr(t.vp, REG_RAX));
        } else {
            cr_assert_eq(th_vector(&t), c->vec, "%s: vector %d, want %d", c->name, th_vector(&t),
                         c->vec);
            uint32_t err;
            uint64_t ip;
            frame(&t, c->mode, (unsigned)c->vec, &err, &ip);
            cr_assert_eq(err, 0, "%s: error code %#x", c->name, err);
            uint64_t want_ip = (c->mode == M16 ? 0 : TH_CODE) + c->off;
            cr_assert_eq(ip, want_ip, "%s: faulting IP %#llx", c->name, (unsigned long long)ip);
        }
        th_fini(&t);
    }
}

/* A REP MOVSB that reaches the ES limit stops at the faulting element, restartable. */
Test(cpu_seglimit, rep_movs_stops_at_limit)
{
    struct th t;
    setup(&t, M32);
    th_load(&t, TH_CODE, CODE(0xf3, 0xa4, 0xf4));
    th_wr(&t, 0x41000, 0x0807060504030201ull, 8);
    struct seg es = {0x10, 0, 0x3ffff, 0x4093};
    cpu_set_seg(t.vp, SEG_ES, &es);
    cpu_set_gpr(t.vp, REG_RSI, 0x41000);
    cpu_set_gpr(t.vp, REG_RDI, 0x3fffc);
    cpu_set_gpr(t.vp, REG_RCX, 8);
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RCX), 4, "four bytes were copied");
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RDI), 0x40000);
    cr_assert_eq(th_rd(&t, 0x3fffc, 4), 0x04030201);
    cr_assert_eq(th_rd(&t, 0x40000, 1), 0, "the byte beyond the limit is untouched");
    th_fini(&t);
}

/* Loading a flat selector again leaves the fast path (no CAREFUL_SEG): a limit fault before,
 * none after. */
Test(cpu_seglimit, reload_flat_clears_checks)
{
    struct th t;
    setup(&t, M32);
    /* mov eax,[ebx]; mov cx,0x10; mov ds,cx; mov eax,[ebx]; hlt */
    th_load(&t, TH_CODE, CODE(0x8b, 0x03, 0x66, 0xb9, 0x10, 0x00, 0x8e, 0xd9, 0x8b, 0x03, 0xf4));
    struct seg ds = {0x10, 0, 0xfff, 0x4093};
    cpu_set_seg(t.vp, SEG_DS, &ds);
    cpu_set_gpr(t.vp, REG_RBX, 0x40000);
    th_wr(&t, 0x40000, MAGIC, 4);
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13, "limit 0xfff");
    th_fini(&t);
    setup(&t, M32);
    th_load(&t, TH_CODE, CODE(0x66, 0xb9, 0x10, 0x00, 0x8e, 0xd9, 0x8b, 0x03, 0xf4));
    cpu_set_seg(t.vp, SEG_DS, &ds);
    cpu_set_gpr(t.vp, REG_RBX, 0x40000);
    th_wr(&t, 0x40000, MAGIC, 4);
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), -1);
    cr_assert_eq((uint32_t)cpu_get_gpr(t.vp, REG_RAX), MAGIC);
    th_fini(&t);
}

/* ---- CS limit on instruction fetch ---- */

struct fetch_case {
    const char *name;
    const uint8_t *code;
    unsigned len;
    uint32_t limit;     /* CS limit (offset of the last executable byte) */
    int vec;
    uint32_t fault_off; /* offset from TH_CODE of the reported instruction */
    uint32_t alt_off;   /* another acceptable one (a branch reported at its target), or 0 */
    uint64_t icount;    /* instructions retired before the handler's HLT */
};

static const struct fetch_case fetch_cases[] = {
    {"runs_to_limit", CODE(0x90, 0x90, 0x90, 0x90, 0x90, 0xf4), 4, 13, 5, 0, 5},
    {"insn_straddles_limit", CODE(0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4), 4, 13, 1, 0, 1},
    {"last_byte_at_limit", CODE(0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4), 6, NOFAULT, 0, 0, 3},
    {"jmp_beyond_limit", CODE(0x90, 0xeb, 0x20, [0x23] = 0xf4), 0x20, 13, 1, 0x23, 1},
    {"jcc_beyond_limit", CODE(0x31, 0xc0, 0x74, 0x20, [0x24] = 0xf4), 0x20, 13, 2, 0x24, 1},
    {"jmp_within_limit", CODE(0x90, 0xeb, 0x20, [0x23] = 0xf4), 0x23, NOFAULT, 0, 0, 3},
};

Test(cpu_seglimit, fetch_limit_table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(fetch_cases); k++) {
        const struct fetch_case *c = &fetch_cases[k];
        struct th t;
        setup(&t, M32);
        th_load(&t, TH_CODE, c->code, c->len);
        struct seg cs = {0x08, 0, (uint32_t)TH_CODE + c->limit, 0x409b};
        cpu_set_seg(t.vp, SEG_CS, &cs);
        cpu_set_gpr(t.vp, REG_RAX, 7);
        cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT, "%s", c->name);
        if (c->vec == NOFAULT) {
            cr_assert_eq(th_vector(&t), -1, "%s: vector %d", c->name, th_vector(&t));
            cr_assert_eq(cpu_icount(t.vp), c->icount, "%s: icount %llu", c->name,
                         (unsigned long long)cpu_icount(t.vp));
            th_fini(&t);
            continue;
        }
        cr_assert_eq(th_vector(&t), c->vec, "%s: vector %d", c->name, th_vector(&t));
        uint32_t err;
        uint64_t ip;
        frame(&t, M32, (unsigned)c->vec, &err, &ip);
        cr_assert_eq(err, 0, "%s", c->name);
        cr_assert(ip == TH_CODE + c->fault_off || (c->alt_off && ip == TH_CODE + c->alt_off),
                  "%s: faulting EIP %#llx", c->name, (unsigned long long)ip);
        /* Reported at its target, a branch has retired. */
        uint64_t want = c->icount + 1 + (ip == TH_CODE + c->alt_off);
        cr_assert_eq(cpu_icount(t.vp), want, "%s: icount %llu", c->name,
                     (unsigned long long)cpu_icount(t.vp));
        if (k == 1)
            cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 7, "%s: the MOV did not run", c->name);
        th_fini(&t);
    }
}

/* A near CALL beyond the limit: #GP(0), and when reported at the CALL no push is left. */
Test(cpu_seglimit, call_beyond_limit)
{
    struct th t;
    setup(&t, M32);
    th_load(&t, TH_CODE, CODE(0xe8, 0x20, 0x00, 0x00, 0x00, [0x25] = 0xf4));
    struct seg cs = {0x08, 0, (uint32_t)TH_CODE + 0x20, 0x409b};
    cpu_set_seg(t.vp, SEG_CS, &cs);
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13);
    uint32_t err;
    uint64_t ip;
    frame(&t, M32, 13, &err, &ip);
    cr_assert(ip == TH_CODE || ip == TH_CODE + 0x25, "EIP %#llx", (unsigned long long)ip);
    uint32_t sp = (uint32_t)cpu_get_gpr(t.vp, REG_RSP);
    if (ip == TH_CODE)
        cr_assert_eq(sp, TH_STACK - 16, "frame of 16 bytes on the caller's stack");
    th_fini(&t);
}

/* Blocks decoded under a 4 GiB CS are not run past a smaller limit loaded later by a far JMP
 * (the decode lookup is keyed by linear address only). */
Test(cpu_seglimit, far_jmp_to_smaller_limit)
{
    struct th t;
    setup(&t, M32);
    /* 0x18: code, base 0, limit TH_CODE + 0x23 (byte granular). */
    uint64_t lim = TH_CODE + 0x23;
    th_wr(&t, TH_GDT + 0x18, (lim & 0xffff) | (0x9bull << 40) | (((lim >> 16) & 0xf) << 48) |
                                 (0x4ull << 52), 8);
    struct dtr g = {TH_GDT, 0x1f};
    cpu_set_dtr(t.vp, false, &g);
    /* +0: call +0x20; +5: jmp far 0x18:+0x10; +0x10: jmp +0x20; +0x20: 6 x nop; ret */
    uint32_t tgt = (uint32_t)TH_CODE + 0x10;
    th_load(&t, TH_CODE,
            CODE(0xe8, 0x1b, 0x00, 0x00, 0x00, 0xea, (uint8_t)tgt, (uint8_t)(tgt >> 8),
                 (uint8_t)(tgt >> 16), (uint8_t)(tgt >> 24), 0x18, 0x00, [0x10] = 0xe9, 0x0b, 0x00,
                 0x00, 0x00, [0x20] = 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xc3));
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13, "vector %d rip %#llx", th_vector(&t),
                 (unsigned long long)cpu_get_rip(t.vp));
    uint32_t err;
    uint64_t ip;
    frame(&t, M32, 13, &err, &ip);
    cr_assert_eq(ip, TH_CODE + 0x24, "EIP %#llx", (unsigned long long)ip);
    uint32_t sp = (uint32_t)cpu_get_gpr(t.vp, REG_RSP);
    cr_assert_eq(th_rd(&t, sp + 8, 4), 0x18, "CS of the frame");
    th_fini(&t);
}

/* Real mode: IP past the 64 KiB code segment faults; compatibility mode checks the limit,
 * 64-bit mode does not. */
Test(cpu_seglimit, fetch_limit_modes)
{
    struct th t;
    setup(&t, M16);
    struct seg cs = {0x1000, 0x10000, 0xffff, 0x9b};
    cpu_set_seg(t.vp, SEG_CS, &cs);
    th_wr(&t, 0x1fffe, 0x9090, 2);
    cpu_set_rip(t.vp, 0xfffe);
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13, "real mode: vector %d", th_vector(&t));
    th_fini(&t);

    setup(&t, MCOMPAT);
    struct seg ccs = {0x20, 0, (uint32_t)TH_CODE + 1, 0x409b};
    cpu_set_seg(t.vp, SEG_CS, &ccs);
    th_load(&t, TH_CODE, CODE(0x90, 0x90, 0xf4));
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13, "compat: vector %d", th_vector(&t));
    th_fini(&t);

    setup(&t, M64);
    struct seg lcs = {0x08, 0, (uint32_t)TH_CODE + 1, 0x209b};
    cpu_set_seg(t.vp, SEG_CS, &lcs);
    th_load(&t, TH_CODE, CODE(0x90, 0x90, 0xf4));
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), -1, "64-bit: vector %d", th_vector(&t));
    cr_assert_eq(cpu_get_rip(t.vp), TH_CODE + 3);
    th_fini(&t);
}

/* seg_check_branch, the block-end check of near branches: #GP(0) at the branch with the
 * branch's own effects (push, pop, count) undone; far transfers and targets within the limit
 * pass. Called directly, as the dispatcher would after the handler set RIP. */
struct branch_case {
    const char *name;
    uint16_t op;
    uint8_t opsz, asz;
    uint64_t imm;
    uint64_t rip, rsp, rcx;   /* after the handler ran */
    bool fault;
    uint64_t want_rsp, want_rcx;
};

static const struct branch_case branch_cases[] = {
    {"jmp_within", OP_JMP_REL, 4, 4, 0, 0x1000, 0x80000, 5, false, 0x80000, 5},
    {"jmp_beyond", OP_JMP_REL, 4, 4, 0, 0x1001, 0x80000, 5, true, 0x80000, 5},
    {"jcc_beyond", OP_JCC, 4, 4, 0, 0x2000, 0x80000, 5, true, 0x80000, 5},
    {"call_beyond_push_undone", OP_CALL_REL, 4, 4, 0, 0x2000, 0x7fffc, 5, true, 0x80000, 5},
    {"call16_beyond_push_undone", OP_CALL_RM, 2, 4, 0, 0x2000, 0x7fffe, 5, true, 0x80000, 5},
    {"ret_imm_beyond_pop_undone", OP_RET, 4, 4, 8, 0x2000, 0x8000c, 5, true, 0x80000, 5},
    {"loop_beyond_count_undone", OP_LOOP, 4, 4, 0, 0x2000, 0x80000, 4, true, 0x80000, 5},
    {"loop16_beyond_count_undone", OP_LOOP, 4, 2, 0, 0x2000, 0x80000, 0x12300000ffffull, true,
     0x80000, 0x123000000000ull},
    {"far_jmp_not_checked_here", OP_JMP_FAR, 4, 4, 0, 0x2000, 0x80000, 5, false, 0x80000, 5},
};

Test(cpu_seglimit, branch_check_table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(branch_cases); k++) {
        const struct branch_case *c = &branch_cases[k];
        struct th t;
        setup(&t, M32);
        struct seg cs = {0x08, 0, 0x1000, 0x409b};
        cpu_set_seg(t.vp, SEG_CS, &cs);
        struct vcpu *vp = t.vp;
        struct insn in = {.op = c->op, .opsz = c->opsz, .asz = c->asz, .imm = c->imm};
        vp->rip = c->rip;
        vp->gpr[REG_RSP] = c->rsp;
        vp->gpr[REG_RCX] = c->rcx;
        jmp_buf jb;
        jmp_buf *outer = vp->jb;
        vp->jb = &jb;
        volatile bool faulted = false;
        if (setjmp(jb))
            faulted = true;
        else
            seg_check_branch(vp, &in);
        vp->jb = outer;
        cr_assert_eq(faulted, c->fault, "%s: fault %d", c->name, faulted);
        if (faulted) {
            cr_assert_eq(vp->fault_vec, 13, "%s", c->name);
            cr_assert_eq(vp->fault_err, 0, "%s", c->name);
            cr_assert_eq(vp->cur, &in, "%s: reported at the branch", c->name);
            vp->cur = NULL;
        }
        cr_assert_eq(vp->gpr[REG_RSP], c->want_rsp, "%s: rsp %#llx", c->name,
                     (unsigned long long)vp->gpr[REG_RSP]);
        cr_assert_eq(vp->gpr[REG_RCX], c->want_rcx, "%s: rcx %#llx", c->name,
                     (unsigned long long)vp->gpr[REG_RCX]);
        th_fini(&t);
    }
}
