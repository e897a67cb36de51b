/* Fast system calls as an Intel CPU runs them: SYSCALL/SYSRET (64-bit mode only; SYSRET to
 * 64-bit and compatibility mode) and SYSENTER/SYSEXIT (32-bit protected mode and long mode),
 * the selectors and attributes they load, RFLAGS through R11/SFMASK, and their #UD/#GP rules. */
#include <criterion/criterion.h>

#include "cpu/vcpu.h"
#include "ring_harness.h"

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

#define KENTRY (TH_CODE + 0x200) /* LSTAR / SYSENTER_EIP: hlt */
#define STAR_STD 0x0018000800000000ull
#define NONCANON 0x0000800000000000ull

static void sys_msrs(struct th *t)
{
    t->vp->star = STAR_STD;
    t->vp->lstar = KENTRY;
    t->vp->sysenter_cs = RH_KCS;
    t->vp->sysenter_eip = KENTRY;
    t->vp->sysenter_esp = RH_ESP0;
    th_wr(t, KENTRY, 0xf4, 1);
}

static void assert_seg(struct th *t, unsigned s, uint16_t sel, uint32_t attr, const char *what)
{
    struct seg v;
    cpu_get_seg(t->vp, s, &v);
    cr_assert_eq(v.sel, sel, "%s selector %#x, want %#x", what, v.sel, sel);
    cr_assert_eq(v.attr, attr, "%s attributes %#x, want %#x", what, v.attr, attr);
    cr_assert_eq(v.base, 0, "%s base", what);
    cr_assert_eq(v.limit, 0xffffffffu, "%s limit", what);
}

/* ---- SYSCALL/SYSRET round trips ---- */

struct sc_case {
    const char *name;
    uint64_t star;
    uint16_t want_ss; /* kernel SS after SYSCALL: STAR[47:32] + 8, RPL not forced */
};

static const struct sc_case sc_cases[] = {
    {"standard", STAR_STD, 0x10},
    {"star_rpl_bits", 0x0018000b00000000ull, 0x13},
};

Test(cpu_syscall, syscall_sysret_64)
{
    /* kernel: mov rcx, TH_CODE+0x100; mov r11, ~0x100 (all but TF); sysretq */
    static const uint8_t k[] = {0x48, 0xc7, 0xc1, 0x00, 0x01, 0x01, 0x00, 0x49, 0xc7,
                                0xc3, 0xff, 0xfe, 0xff, 0xff, 0x48, 0x0f, 0x07};
    /* user: mov ax, cs; mov bx, ss; pushfq; pop rdx; cmp eax, eax; syscall */
    static const uint8_t u[] = {0x66, 0x8c, 0xc8, 0x66, 0x8c, 0xd3, 0x9c, 0x5a, 0x39, 0xc0, 0x0f, 0x05};
    for (unsigned c = 0; c < ARRAY_SIZE(sc_cases); c++) {
        const struct sc_case *sc = &sc_cases[c];
        struct th t;
        rh_boot(&t, RH_LM64, 0, 0, true, k, sizeof(k));
        th_load(&t, TH_CODE + 0x100, u, sizeof(u));
        sys_msrs(&t);
        t.vp->star = sc->star;
        t.vp->sfmask = FL_AC | FL_DF | FL_IF;
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", sc->name);
        cr_assert_eq(cpu_get_rip(t.vp), KENTRY + 1, "%s: rip %#llx", sc->name,
                     (unsigned long long)cpu_get_rip(t.vp));
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX) & 0xffff, 0x2b, "%s: SYSRET CS = STAR[63:48] + 16 | 3", sc->name);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX) & 0xffff, 0x23, "%s: SYSRET SS = STAR[63:48] + 8 | 3", sc->name);
        /* SYSRET: RFLAGS = R11 & 0x3C7FD7 | 2 */
        uint64_t ufl = 0x3c7ed7;
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RDX), ufl, "%s: user RFLAGS %#llx", sc->name,
                     (unsigned long long)cpu_get_gpr(t.vp, REG_RDX));
        uint64_t r11 = (ufl & ~(uint64_t)FL_ARITH) | FL_ZF | FL_PF;
        cr_assert_eq(cpu_get_gpr(t.vp, REG_R11), r11, "%s: R11 = RFLAGS at SYSCALL", sc->name);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RCX), TH_CODE + 0x100 + sizeof(u), "%s: RCX", sc->name);
        cr_assert_eq(cpu_get_rflags(t.vp), r11 & ~(uint64_t)(FL_AC | FL_DF | FL_IF), "%s: SFMASK", sc->name);
        cr_assert_eq(cpu_get_cpl(t.vp), 0);
        assert_seg(&t, SEG_CS, 0x08, 0xa09b, sc->name);
        assert_seg(&t, SEG_SS, sc->want_ss, 0xc093, sc->name);
        cr_assert(cpu_in_64bit_mode(t.vp));
        th_fini(&t);
    }
}

Test(cpu_syscall, sysret_to_compatibility_mode)
{
    /* kernel: mov rcx, 0xdead000000010300; mov r11d, 0x202; sysret (no REX.W) */
    static const uint8_t k[] = {0x48, 0xb9, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0xad,
                                0xde, 0x41, 0xbb, 0x02, 0x02, 0x00, 0x00, 0x0f, 0x07};
    /* user (32-bit code): mov eax, 7; syscall -> #UD on Intel outside 64-bit mode */
    static const uint8_t u[] = {0xb8, 0x07, 0x00, 0x00, 0x00, 0x0f, 0x05};
    struct th t;
    rh_boot(&t, RH_LM64, 0, 0, false, k, sizeof(k));
    th_load(&t, TH_CODE + 0x300, u, sizeof(u));
    sys_msrs(&t);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(rh_vector(&t), EXC_UD, "vector %d", rh_vector(&t));
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 7, "user code ran");
    cr_assert_eq(rh_frame(&t, 0), TH_CODE + 0x305, "RIP = ECX, then the faulting SYSCALL");
    cr_assert_eq(rh_frame(&t, 1), 0x1b, "CS = STAR[63:48] | 3");
    cr_assert_eq(rh_frame(&t, 2) & ~(uint64_t)FL_RF, 0x202, "RFLAGS from R11: %#llx", (unsigned long long)rh_frame(&t, 2));
    cr_assert_eq(rh_frame(&t, 4), 0x23, "SS = STAR[63:48] + 8 | 3");
    th_fini(&t);
}

/* ---- SYSENTER/SYSEXIT round trips ---- */

struct se_case {
    const char *name;
    enum rh_mode mode;
    const uint8_t *k;
    size_t klen;
    const uint8_t *u;
    size_t ulen;
    uint64_t user_at;
    uint64_t rcx, rdx;     /* preset (the kernel code may load them itself) */
    uint64_t esp_msr, eip_msr;
    uint16_t want_cs, want_ss; /* seen by the user code */
    uint32_t kcs_attr;
    uint64_t want_rsp, want_rip; /* after SYSENTER */
};

/* user 64: mov ax, cs; mov bx, ss; mov rsi, rsp; sysenter */
static const uint8_t u64[] = {0x66, 0x8c, 0xc8, 0x66, 0x8c, 0xd3, 0x48, 0x89, 0xe6, 0x0f, 0x34};
/* user 32: mov eax, cs; mov ebx, ss; mov esi, esp; sysenter */
static const uint8_t u32[] = {0x8c, 0xc8, 0x8c, 0xd3, 0x89, 0xe6, 0x0f, 0x34};
/* kernel 64: mov rcx, 0x50000; mov rdx, 0x10100; sysexit with REX.W */
static const uint8_t k64w[] = {0x48, 0xc7, 0xc1, 0x00, 0x00, 0x05, 0x00, 0x48, 0xc7,
                               0xc2, 0x00, 0x01, 0x01, 0x00, 0x48, 0x0f, 0x35};
/* kernel 64: mov ecx, 0x50000; mov edx, 0x10300; sysexit (to compatibility mode) */
static const uint8_t k64c[] = {0xb9, 0x00, 0x00, 0x05, 0x00, 0xba, 0x00, 0x03, 0x01, 0x00, 0x0f, 0x35};
static const uint8_t ksysexit[] = {0x0f, 0x35};

static const struct se_case se_cases[] = {
    {"long_mode_rex_w", RH_LM64, k64w, sizeof(k64w), u64, sizeof(u64), TH_CODE + 0x100, 0, 0,
     0x0000123400000000ull, KENTRY, 0x2b, 0x33, 0xa09b, 0x0000123400000000ull, KENTRY + 1},
    {"long_mode_to_compat", RH_LM64, k64c, sizeof(k64c), u32, sizeof(u32), TH_CODE + 0x300, 0, 0,
     RH_ESP0, KENTRY, 0x1b, 0x23, 0xa09b, RH_ESP0, KENTRY + 1},
    /* Outside IA-32e mode ECX/EDX and the MSRs' low halves are used. */
    {"protected_32", RH_PM32, ksysexit, sizeof(ksysexit), u32, sizeof(u32), TH_CODE + 0x100,
     0xffffffff00050000ull, 0x7777000000010100ull, 0xffffffff00061000ull,
     0xabcd000000000000ull | KENTRY, 0x1b, 0x23, 0xc09b, 0x61000, KENTRY + 1},
};

Test(cpu_syscall, sysenter_sysexit_table)
{
    for (unsigned c = 0; c < ARRAY_SIZE(se_cases); c++) {
        const struct se_case *sc = &se_cases[c];
        struct th t;
        rh_boot(&t, sc->mode, 0, 0, true, sc->k, sc->klen);
        th_load(&t, sc->user_at, sc->u, sc->ulen);
        sys_msrs(&t);
        t.vp->sysenter_esp = sc->esp_msr;
        t.vp->sysenter_eip = sc->eip_msr;
        cpu_set_gpr(t.vp, REG_RCX, sc->rcx);
        cpu_set_gpr(t.vp, REG_RDX, sc->rdx);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", sc->name);
        cr_assert_eq(cpu_get_rip(t.vp), sc->want_rip, "%s: rip %#llx", sc->name,
                     (unsigned long long)cpu_get_rip(t.vp));
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX) & 0xffff, sc->want_cs, "%s: SYSEXIT CS %#llx", sc->name,
                     (unsigned long long)cpu_get_gpr(t.vp, REG_RAX));
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX) & 0xffff, sc->want_ss, "%s: SYSEXIT SS", sc->name);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RSI), 0x50000, "%s: SYSEXIT RSP = RCX", sc->name);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), sc->want_rsp, "%s: SYSENTER RSP %#llx", sc->name,
                     (unsigned long long)cpu_get_gpr(t.vp, REG_RSP));
        cr_assert_eq(cpu_get_cpl(t.vp), 0, "%s", sc->name);
        cr_assert_eq(cpu_get_rflags(t.vp) & (FL_IF | FL_RF | FL_VM), 0, "%s: IF, RF, VM cleared", sc->name);
        assert_seg(&t, SEG_CS, RH_KCS, sc->kcs_attr, sc->name);
        assert_seg(&t, SEG_SS, RH_KDS, 0xc093, sc->name);
        th_fini(&t);
    }
}

/* ---- #UD and #GP ---- */

enum { SET_SCE_OFF = 1, SET_SYSENTER_CS0 = 2, SET_SYSENTER_CS_RPL = 4, SET_RCX_NC = 8, SET_RDX_NC = 16 };

struct fault_case {
    const char *name;
    enum rh_mode mode;
    unsigned cpl;
    unsigned set;
    const uint8_t *code;
    size_t len;
    int vec;
};

static const uint8_t c_syscall[] = {0x0f, 0x05};
static const uint8_t c_sysretq[] = {0x48, 0x0f, 0x07};
static const uint8_t c_sysret[] = {0x0f, 0x07};
static const uint8_t c_sysenter[] = {0x0f, 0x34};
static const uint8_t c_sysexitq[] = {0x48, 0x0f, 0x35};
static const uint8_t c_sysexit[] = {0x0f, 0x35};
#define C(a) a, sizeof(a)

static const struct fault_case fault_cases[] = {
    {"syscall_sce_clear", RH_LM64, 3, SET_SCE_OFF, C(c_syscall), EXC_UD},
    {"syscall_compat_ring3", RH_COMPAT, 3, 0, C(c_syscall), EXC_UD},
    {"syscall_compat_ring0", RH_COMPAT, 0, 0, C(c_syscall), EXC_UD},
    {"syscall_protected_32", RH_PM32, 0, 0, C(c_syscall), EXC_UD},
    {"syscall_real", RH_REAL, 0, 0, C(c_syscall), EXC_UD},
    {"sysret_sce_clear", RH_LM64, 0, SET_SCE_OFF, C(c_sysretq), EXC_UD},
    {"sysret_compat", RH_COMPAT, 0, 0, C(c_sysret), EXC_UD},
    {"sysret_protected_32", RH_PM32, 0, 0, C(c_sysret), EXC_UD},
    {"sysret_ring3", RH_LM64, 3, 0, C(c_sysretq), EXC_GP},
    {"sysret_noncanonical_rcx", RH_LM64, 0, SET_RCX_NC, C(c_sysretq), EXC_GP},
    {"sysenter_cs0_64", RH_LM64, 3, SET_SYSENTER_CS0, C(c_sysenter), EXC_GP},
    {"sysenter_cs_rpl_only_32", RH_PM32, 3, SET_SYSENTER_CS_RPL, C(c_sysenter), EXC_GP},
    {"sysenter_real", RH_REAL, 0, 0, C(c_sysenter), EXC_GP},
    {"sysexit_ring3_32", RH_PM32, 3, 0, C(c_sysexit), EXC_GP},
    {"sysexit_ring3_64", RH_LM64, 3, 0, C(c_sysexitq), EXC_GP},
    {"sysexit_real", RH_REAL, 0, 0, C(c_sysexit), EXC_GP},
    {"sysexit_cs0", RH_LM64, 0, SET_SYSENTER_CS0, C(c_sysexitq), EXC_GP},
    {"sysexit_noncanonical_rcx", RH_LM64, 0, SET_RCX_NC, C(c_sysexitq), EXC_GP},
    {"sysexit_noncanonical_rdx", RH_LM64, 0, SET_RDX_NC, C(c_sysexitq), EXC_GP},
};

Test(cpu_syscall, fault_table)
{
    for (unsigned c = 0; c < ARRAY_SIZE(fault_cases); c++) {
        const struct fault_case *fc = &fault_cases[c];
        struct th t;
        rh_boot(&t, fc->mode, fc->cpl, 0, false, fc->code, fc->len);
        sys_msrs(&t);
        cpu_set_efer(t.vp, (cpu_get_efer(t.vp) | EFER_SCE) & ~(uint64_t)((fc->set & SET_SCE_OFF) ? EFER_SCE : 0));
        if (fc->set & SET_SYSENTER_CS0)
            t.vp->sysenter_cs = 0;
        if (fc->set & SET_SYSENTER_CS_RPL)
            t.vp->sysenter_cs = 3;
        cpu_set_gpr(t.vp, REG_RCX, (fc->set & SET_RCX_NC) ? NONCANON : 0x50000);
        cpu_set_gpr(t.vp, REG_RDX, (fc->set & SET_RDX_NC) ? NONCANON : TH_CODE + 0x100);
        struct seg cs0;
        cpu_get_seg(t.vp, SEG_CS, &cs0);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", fc->name);
        cr_assert_eq(rh_vector(&t), fc->vec, "%s: vector %d", fc->name, rh_vector(&t));
        uint64_t ip0 = fc->mode == RH_REAL ? 0 : TH_CODE;
        cr_assert_eq(rh_frame(&t, 0), ip0, "%s: faults on the instruction, rip %#llx", fc->name,
                     (unsigned long long)rh_frame(&t, 0));
        cr_assert_eq(rh_frame(&t, 1), cs0.sel, "%s: raised in the caller's CS %#x", fc->name, cs0.sel);
        if (fc->vec == EXC_GP)
            cr_assert_eq(rh_errcode(&t), 0, "%s: #GP(0)", fc->name);
        th_fini(&t);
    }
}

/* The ring-3 segments SYSRET and SYSEXIT load: fixed flat descriptors (type 11 code / 3 data,
 * DPL 3, G, L or D/B), RPL 3, whatever the GDT holds. The target is "jmp $". */
struct ret_case {
    const char *name;
    enum rh_mode mode;
    const uint8_t *code;
    size_t len;
    uint16_t cs, ss;
    uint32_t cs_attr;
    bool is64;
};

static const struct ret_case ret_cases[] = {
    {"sysretq", RH_LM64, C(c_sysretq), 0x2b, 0x23, 0xa0fb, true},
    {"sysret_compat", RH_LM64, C(c_sysret), 0x1b, 0x23, 0xc0fb, false},
    {"sysexitq", RH_LM64, C(c_sysexitq), 0x2b, 0x33, 0xa0fb, true},
    {"sysexit_compat", RH_LM64, C(c_sysexit), 0x1b, 0x23, 0xc0fb, false},
    {"sysexit_protected_32", RH_PM32, C(c_sysexit), 0x1b, 0x23, 0xc0fb, false},
};

Test(cpu_syscall, return_segments_table)
{
    for (unsigned c = 0; c < ARRAY_SIZE(ret_cases); c++) {
        const struct ret_case *rc = &ret_cases[c];
        struct th t;
        rh_boot(&t, rc->mode, 0, 0, false, rc->code, rc->len);
        sys_msrs(&t);
        const uint64_t target = TH_CODE + 0x100;
        th_wr(&t, target, 0xfeeb, 2); /* jmp $ */
        cpu_set_gpr(t.vp, REG_RCX, target);
        cpu_set_gpr(t.vp, REG_RDX, target);
        cpu_set_gpr(t.vp, REG_R11, 0x2);
        cr_assert_eq(th_run(&t, 20), CPU_STOP_BUDGET, "%s", rc->name);
        cr_assert_eq(cpu_get_rip(t.vp), target, "%s: rip %#llx", rc->name, (unsigned long long)cpu_get_rip(t.vp));
        cr_assert_eq(cpu_get_cpl(t.vp), 3, "%s", rc->name);
        cr_assert_eq(cpu_in_64bit_mode(t.vp), rc->is64, "%s: 64-bit mode", rc->name);
        assert_seg(&t, SEG_CS, rc->cs, rc->cs_attr, rc->name);
        assert_seg(&t, SEG_SS, rc->ss, 0xc0f3, rc->name);
        th_fini(&t);
    }
}
