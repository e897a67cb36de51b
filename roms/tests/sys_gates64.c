/* IA-32e call gates, IRETQ and event delivery (SDM Vol 3 5.8.3.1, 6.14; IRET): a ring 3 -> ring 0
 * CALL through a 64-bit call gate and back with RETFQ, the gate checks, the forms of IRETQ (same
 * level, to compatibility mode, and its faults), and interrupts on an IST stack. */
#include "guest.h"

extern uint64_t guest_gdt[]; /* roms/lib/start.S: 0x30 holds the 64-bit TSS */

/* A copy of the library GDT with room for 16-byte call gates at 0x40 and 0x50. */
static uint64_t gdt2[16] __attribute__((aligned(16)));
#define SEL_GATE 0x40
#define SEL_GATE_BAD 0x50
#define SEL_CODE32 0x18

static void load_gdt2(void)
{
    for (unsigned k = 0; k < 8; k++)
        gdt2[k] = guest_gdt[k];
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } g = {
        sizeof(gdt2) - 1, (uint64_t)(uintptr_t)gdt2};
    __asm__ volatile("lgdt %0" ::"m"(g));
}

static void set_gate64(unsigned sel, uint16_t cs, uint64_t off, unsigned access, unsigned upper_type)
{
    gdt2[sel / 8] = (off & 0xFFFF) | (uint64_t)cs << 16 | (uint64_t)access << 40 |
                    ((off >> 16) & 0xFFFF) << 48;
    gdt2[sel / 8 + 1] = (off >> 32) | (uint64_t)upper_type << 40;
}

/* Ring 0 target of the gate: records its stack and the frame, then RETFQ to ring 3. */
uint64_t g_rsp, g_frame[4];
uint16_t g_ss, g_cs;
void gate64_target(void);
__asm__(".text\n"
        "gate64_target:\n"
        "  movq %rsp, g_rsp(%rip)\n"
        "  movq 0(%rsp), %rax\n  movq %rax, g_frame+0(%rip)\n"
        "  movq 8(%rsp), %rax\n  movq %rax, g_frame+8(%rip)\n"
        "  movq 16(%rsp), %rax\n  movq %rax, g_frame+16(%rip)\n"
        "  movq 24(%rsp), %rax\n  movq %rax, g_frame+24(%rip)\n"
        "  movw %ss, g_ss(%rip)\n"
        "  movw %cs, g_cs(%rip)\n"
        "  lretq\n");

struct __attribute__((packed)) farptr {
    uint32_t off;
    uint16_t sel;
};
static struct farptr gate_ptr;
static volatile uint64_t u_rsp_before, u_rsp_after;
static volatile uint16_t u_cs_after;

static void user_gate_call(void *arg)
{
    (void)arg;
    __asm__ volatile("movq %%rsp, %0\n lcall *%3\n movq %%rsp, %1\n movw %%cs, %2"
                     : "=m"(u_rsp_before), "=m"(u_rsp_after), "=m"(u_cs_after)
                     : "m"(gate_ptr)
                     : "rax", "memory");
}

static uint64_t tss_base(void)
{
    uint64_t lo = guest_gdt[6], hi = guest_gdt[7];
    return ((lo >> 16) & 0xFFFFFF) | ((lo >> 56) << 24) | (hi << 32);
}

static void test_call_gate(void)
{
    set_gate64(SEL_GATE, 0x08, (uint64_t)(uintptr_t)gate64_target, 0xEC, 0);
    gate_ptr = (struct farptr){0, SEL_GATE | 3};
    long r = try_call_user(user_gate_call, NULL);
    CHECK_EQ("gate64: ring 3 call returns", r, 0);
    CHECK_EQ("gate64: target CS", g_cs, 0x08);
    CHECK_EQ("gate64: SS null at CPL 0", g_ss, 0);
    uint64_t rsp0 = *(volatile uint64_t *)(uintptr_t)(tss_base() + 4);
    CHECK_EQ("gate64: stack from TSS.RSP0", g_rsp, rsp0 - 32);
    CHECK_EQ("gate64: pushed CS", g_frame[1], 0x2B);
    CHECK_EQ("gate64: pushed RSP", g_frame[2], u_rsp_before);
    CHECK_EQ("gate64: pushed SS", g_frame[3], 0x23);
    CHECK_EQ("gate64: RETFQ restores RSP", u_rsp_after, u_rsp_before);
    CHECK_EQ("gate64: RETFQ back to ring 3", u_cs_after, 0x2B);
}

struct gate_err {
    const char *name;
    uint16_t cs;
    unsigned access, upper_type;
    long rc;
    uint64_t err;
};

static const struct gate_err gate_errs[] = {
    {"gate64: DPL 0 gate from ring 3 #GP", 0x08, 0x8C, 0, TRAP_CAUGHT | 13, SEL_GATE_BAD},
    {"gate64: upper type not 0 #GP", 0x08, 0xEC, 0x0C, TRAP_CAUGHT | 13, SEL_GATE_BAD},
    {"gate64: to 32-bit code #GP", SEL_CODE32, 0xEC, 0, TRAP_CAUGHT | 13, SEL_CODE32},
    {"gate64: not present #NP", 0x08, 0x6C, 0, TRAP_CAUGHT | 11, SEL_GATE_BAD},
    {"gate64: 16-bit gate type #GP", 0x08, 0xE4, 0, TRAP_CAUGHT | 13, SEL_GATE_BAD},
};

static void test_gate_checks(void)
{
    for (unsigned k = 0; k < sizeof(gate_errs) / sizeof(gate_errs[0]); k++) {
        const struct gate_err *e = &gate_errs[k];
        set_gate64(SEL_GATE_BAD, e->cs, (uint64_t)(uintptr_t)gate64_target, e->access, e->upper_type);
        gate_ptr = (struct farptr){0, SEL_GATE_BAD | 3};
        long r = try_call_user(user_gate_call, NULL);
        bool ok = r == e->rc && trap_last.error_code == e->err;
        check(e->name, ok, "rc 0x%lx error 0x%llx", r, (unsigned long long)trap_last.error_code);
    }
}

/* ---- IRETQ ---- */
static uint8_t scratch[4096] __attribute__((aligned(16)));
#define SCRATCH_TOP ((uint64_t)(uintptr_t)(scratch + sizeof(scratch) - 64))

struct iret_frame {
    uint64_t ss, rsp, rflags_or, cs, rip;
};
static struct iret_frame iframe;
static volatile uint64_t iret_rsp_seen;
void iretq_insn(void);
void iretq_landing(void);
void compat_landing(void);

/* Set iframe.rflags_or in RFLAGS, push iframe, IRETQ; a normal landing records RSP and returns to the caller's stack. */
__attribute__((noinline)) static void do_iretq(void *arg)
{
    (void)arg;
    __asm__ volatile("movq %%rsp, %%rbx\n"
                     "pushfq\n movq 16(%0), %%rax\n orq %%rax, (%%rsp)\n popfq\n"
                     "pushq 0(%0)\n pushq 8(%0)\n pushfq\n"
                     "pushq 24(%0)\n pushq 32(%0)\n"
                     ".globl iretq_insn\niretq_insn: iretq\n"
                     ".globl iretq_landing\niretq_landing: movq %%rsp, iret_rsp_seen(%%rip)\n"
                     "movq %%rbx, %%rsp\n"
                     :
                     : "r"(&iframe)
                     : "rax", "rbx", "memory");
}
__asm__(".text\n.code32\n.globl compat_landing\ncompat_landing: ud2\n.code64\n");

static volatile uint64_t ud_cs;
static bool on_ud(struct trap_frame *f)
{
    ud_cs = f->cs;
    return false; /* let try_call recover */
}

static void test_iretq(void)
{
    iframe = (struct iret_frame){0x10, SCRATCH_TOP, 0, 0x08, (uint64_t)(uintptr_t)iretq_landing};
    long r = try_call(do_iretq, NULL);
    CHECK_EQ("iretq: same level returns", r, 0);
    CHECK_EQ("iretq: same level pops RSP", iret_rsp_seen, SCRATCH_TOP);

    iframe = (struct iret_frame){0, SCRATCH_TOP, 0, 0x08, (uint64_t)(uintptr_t)iretq_landing};
    r = try_call(do_iretq, NULL);
    CHECK_EQ("iretq: null SS at CPL 0 allowed", r, 0);

    trap_set_handler(6, on_ud);
    iframe = (struct iret_frame){0x10, SCRATCH_TOP, 0, SEL_CODE32, (uint64_t)(uintptr_t)compat_landing};
    r = try_call(do_iretq, NULL);
    CHECK_EQ("iretq: to compatibility mode", r, TRAP_CAUGHT | 6);
    CHECK_EQ("iretq: compat code ran", trap_last.rip, (uint64_t)(uintptr_t)compat_landing);
    CHECK_EQ("iretq: compat CS", ud_cs, SEL_CODE32);
    trap_set_handler(6, NULL);

    struct {
        const char *name;
        struct iret_frame f;
        uint64_t err;
    } faults[] = {
        {"iretq: non-canonical RIP #GP(0)", {0x10, SCRATCH_TOP, 0, 0x08, 0x0000800000000000ull}, 0},
        {"iretq: null SS to ring 3 #GP(0)", {0x03, SCRATCH_TOP, 0, 0x2B, (uint64_t)(uintptr_t)iretq_landing}, 0},
        {"iretq: SS RPL != CS RPL #GP(SS)", {0x20, SCRATCH_TOP, 0, 0x2B, (uint64_t)(uintptr_t)iretq_landing}, 0x20},
        {"iretq: null SS to compat #GP(0)", {0, SCRATCH_TOP, 0, SEL_CODE32, (uint64_t)(uintptr_t)compat_landing}, 0},
        /* Last: the handler's IRETQ brings NT back, cleared below. */
        {"iretq: NT set #GP(0)", {0x10, SCRATCH_TOP, 0x4000, 0x08, (uint64_t)(uintptr_t)iretq_landing}, 0},
    };
    for (unsigned k = 0; k < sizeof(faults) / sizeof(faults[0]); k++) {
        iframe = faults[k].f;
        r = try_call(do_iretq, NULL);
        bool ok = r == (TRAP_CAUGHT | 13) && trap_last.error_code == faults[k].err &&
                  trap_last.rip == (uint64_t)(uintptr_t)iretq_insn;
        check(faults[k].name, ok, "rc 0x%lx error 0x%llx rip 0x%llx", r,
              (unsigned long long)trap_last.error_code, (unsigned long long)trap_last.rip);
    }
    __asm__ volatile("pushfq\n andq $~0x4000, (%%rsp)\n popfq" ::: "memory", "cc");
}

/* ---- delivery on an IST stack ---- */
#define IST_VEC 0x60
static uint8_t ist_stack[4096] __attribute__((aligned(16)));
static volatile uint64_t ist_frame_ss_addr, ist_frame_rsp, ist_rsp_before;

static bool on_ist(struct trap_frame *f)
{
    ist_frame_ss_addr = (uint64_t)(uintptr_t)&f->ss;
    ist_frame_rsp = f->rsp;
    return true;
}

static uint8_t *idt_entry(unsigned vec)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d;
    __asm__ volatile("sidt %0" : "=m"(d));
    return (uint8_t *)(uintptr_t)(d.base + 16 * vec);
}

static void test_ist(void)
{
    uint64_t top = (uint64_t)(uintptr_t)(ist_stack + sizeof(ist_stack));
    *(volatile uint64_t *)(uintptr_t)(tss_base() + 0x24 + 8) = top - 8; /* IST2, misaligned */
    uint8_t *g = idt_entry(IST_VEC);
    g[4] = 2;
    trap_set_handler(IST_VEC, on_ist);
    __asm__ volatile("movq %%rsp, %0\n int $0x60" : "=m"(ist_rsp_before)::"memory");
    g[4] = 0;
    trap_set_handler(IST_VEC, NULL);
    CHECK_EQ("ist: frame on the IST stack, aligned down to 16", ist_frame_ss_addr, top - 16 - 8);
    CHECK_EQ("ist: old RSP pushed", ist_frame_rsp, ist_rsp_before);
}

static void user_int60(void *arg)
{
    (void)arg;
    __asm__ volatile("int $0x60");
}

static void test_int_dpl(void)
{
    long r = try_call_user(user_int60, NULL);
    CHECK_EQ("int n: DPL 0 gate from ring 3 #GP", r, TRAP_CAUGHT | 13);
    CHECK_EQ("int n: error code names the IDT entry", trap_last.error_code, IST_VEC * 8 + 2);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    load_gdt2();
    test_call_gate();
    test_gate_checks();
    test_iretq();
    test_ist();
    test_int_dpl();
    test_finish();
}
