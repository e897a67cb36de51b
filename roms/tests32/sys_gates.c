/* Call gates and privilege transfers in 32-bit protected mode (SDM Vol 3 5.8, 6.12, 20.3): a ring 3
 * -> ring 0 CALL through a call gate with stack switch and parameter copy, far RET back with the
 * data-segment nulling, the gate and new-stack checks, and an interrupt taken from virtual-8086
 * mode with the IRET back into it. */
#include "guest.h"

#define IDX_GATE0 6   /* 0x30: call gate to ring 0 */
#define IDX_CODE1 7   /* 0x39: ring 1 code */
#define IDX_DATA1 8   /* 0x41: ring 1 data */
#define IDX_SCRATCH 10 /* 0x50 */
#define SEL_GATE0 0x30
#define SEL_CODE1 0x39
#define SEL_DATA1 0x41
#define SEL_SCRATCH 0x50

/* Ring 0 target: records its stack (EIP, CS, two parameters, ESP, SS), loads a ring 0 DS and
 * returns with RETF 8. */
uint32_t g_esp, g_frame[6];
uint16_t g_ss, g_cs;
void gate_target0(void);
void gate_target1(void);
__asm__(".text\n"
        "gate_target0:\n"
        "  movl %esp, g_esp\n"
        "  movl 0(%esp), %eax\n  movl %eax, g_frame+0\n"
        "  movl 4(%esp), %eax\n  movl %eax, g_frame+4\n"
        "  movl 8(%esp), %eax\n  movl %eax, g_frame+8\n"
        "  movl 12(%esp), %eax\n  movl %eax, g_frame+12\n"
        "  movl 16(%esp), %eax\n  movl %eax, g_frame+16\n"
        "  movl 20(%esp), %eax\n  movl %eax, g_frame+20\n"
        "  movw %ss, g_ss\n"
        "  movw %cs, g_cs\n"
        "  movl $0x10, %eax\n  movw %ax, %ds\n"
        "  lret $8\n"
        "gate_target1:\n"
        "  movw %cs, g_cs\n"
        "  movw %ss, g_ss\n"
        "  lret\n");

struct __attribute__((packed)) farptr {
    uint32_t off;
    uint16_t sel;
};
struct farptr gate_ptr; /* named by the asm below */
uint32_t u_esp_before, u_esp_after;
uint16_t u_ds_after, u_cs_after;

static void user_call(void *arg)
{
    (void)arg;
    __asm__ volatile("movl %%esp, %%esi\n"
                     "pushl $0x33334444\n pushl $0x11112222\n"
                     "lcall *gate_ptr\n"
                     "movw %%ds, %%cx\n"
                     "movl $0x23, %%eax\n movw %%ax, %%ds\n movw %%ax, %%es\n"
                     "movl %%esi, u_esp_before\n movl %%esp, u_esp_after\n"
                     "movw %%cx, u_ds_after\n movw %%cs, u_cs_after\n"
                     "movl %%esi, %%esp\n"
                     ::: "eax", "ecx", "esi", "memory");
}

static void user_jmp(void *arg)
{
    (void)arg;
    __asm__ volatile("ljmp *gate_ptr" ::: "memory");
}

static void test_inner_call(void)
{
    gdt_set(IDX_GATE0, gate_desc(SEL_CODE32, (uint32_t)(uintptr_t)gate_target0, 0xC, 3, 2));
    gate_ptr = (struct farptr){0, SEL_GATE0 | 3};
    long r = try_call_user(user_call, NULL);
    CHECK_EQ("gate: ring 3 call returns", r, 0);
    CHECK_EQ("gate: target runs at ring 0", g_cs, SEL_CODE32);
    CHECK_EQ("gate: SS0 from the TSS", g_ss, SEL_DATA32);
    CHECK_EQ("gate: ESP0 from the TSS", g_esp, guest_tss.tss.esp0 - 24);
    CHECK_EQ("gate: return CS pushed", g_frame[1], SEL_UCODE32);
    CHECK_EQ("gate: parameter 0 copied", g_frame[2], 0x11112222);
    CHECK_EQ("gate: parameter 1 copied", g_frame[3], 0x33334444);
    CHECK_EQ("gate: caller ESP pushed", g_frame[4], u_esp_before - 8);
    CHECK_EQ("gate: caller SS pushed", g_frame[5], SEL_UDATA32);
    CHECK_EQ("retf: back at ring 3", u_cs_after, SEL_UCODE32);
    CHECK_EQ("retf 8: caller's parameters released", u_esp_after, u_esp_before);
    CHECK_EQ("retf: ring 0 DS nulled", u_ds_after, 0);
}

struct gate_case {
    const char *name;
    uint64_t gate;       /* at IDX_GATE0 */
    uint64_t scratch;    /* at IDX_SCRATCH (0: none) */
    uint16_t ss1;
    bool jmp;
    long rc;
    uint32_t err;
};

#define GATE1(dpl) gate_desc(SEL_CODE1, (uint32_t)(uintptr_t)gate_target1, 0xC, (dpl), 0)

static void test_gate_checks(void)
{
    const uint32_t t1 = (uint32_t)(uintptr_t)gate_target1;
    const struct gate_case cases[] = {
        {"gate: to ring 1", GATE1(3), 0, SEL_DATA1, false, 0, 0},
        {"gate: DPL 0 gate from ring 3 #GP(gate)", GATE1(0), 0, SEL_DATA1, false, TRAP_CAUGHT | 13, SEL_GATE0},
        {"gate: not present #NP(gate)", GATE1(3) & ~(1ull << 47), 0, SEL_DATA1, false, TRAP_CAUGHT | 11, SEL_GATE0},
        {"gate: JMP to inner level #GP(code)", GATE1(3), 0, SEL_DATA1, true, TRAP_CAUGHT | 13, SEL_CODE1 & ~3},
        {"gate: target is data #GP(target)", gate_desc(SEL_DATA1, t1, 0xC, 3, 0), 0, SEL_DATA1, false,
         TRAP_CAUGHT | 13, SEL_DATA1 & ~3},
        {"gate: target not present #NP(target)", gate_desc(SEL_SCRATCH | 1, t1, 0xC, 3, 0),
         gdt_desc(0, 0xFFFFF, 0x3A, 0xC), SEL_DATA1, false, TRAP_CAUGHT | 11, SEL_SCRATCH},
        {"gate: null SS1 #TS(0)", GATE1(3), 0, 0, false, TRAP_CAUGHT | 10, 0},
        {"gate: SS1 RPL mismatch #TS(SS1)", GATE1(3), 0, SEL_DATA1 + 1, false, TRAP_CAUGHT | 10, SEL_DATA1 & ~3},
        {"gate: SS1 not present #SS(SS1)", GATE1(3), gdt_desc(0, 0xFFFFF, 0x32, 0xC), SEL_SCRATCH | 1, false,
         TRAP_CAUGHT | 12, SEL_SCRATCH},
        {"gate: SS1 read-only #TS(SS1)", GATE1(3), gdt_desc(0, 0xFFFFF, 0xB0, 0xC), SEL_SCRATCH | 1, false,
         TRAP_CAUGHT | 10, SEL_SCRATCH},
    };
    static uint8_t ring1_stack[1024] __attribute__((aligned(16)));
    gdt_set(IDX_CODE1, gdt_desc(0, 0xFFFFF, 0xBA, 0xC));
    gdt_set(IDX_DATA1, gdt_desc(0, 0xFFFFF, 0xB2, 0xC));
    guest_tss.tss.esp1 = (uint32_t)(uintptr_t)(ring1_stack + sizeof(ring1_stack));
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct gate_case *c = &cases[k];
        gdt_set(IDX_GATE0, c->gate);
        gdt_set(IDX_SCRATCH, c->scratch);
        guest_tss.tss.ss1 = c->ss1;
        gate_ptr = (struct farptr){0, SEL_GATE0 | 3};
        g_cs = g_ss = 0;
        long r = try_call_user(c->jmp ? user_jmp : user_call, NULL);
        bool ok = r == c->rc && (r ? trap_last.error_code == c->err
                                   : g_cs == SEL_CODE1 && g_ss == c->ss1);
        check(c->name, ok, "rc 0x%lx error 0x%x cs 0x%x ss 0x%x", r, (unsigned)trap_last.error_code,
              g_cs, g_ss);
    }
}

/* ---- an interrupt from virtual-8086 mode, and IRET back into it ---- */
__asm__(".pushsection .rodata\n.code16\n"
        ".globl v86_int_start\nv86_int_start:\n"
        "  movw $0x1234, %bx\n  int $0x40\n  movw $0x5678, %cx\n  int $0x81\n"
        ".globl v86_int_end\nv86_int_end:\n"
        ".code32\n.popsection\n");
extern const char v86_int_start[], v86_int_end[];

#define V86_CS 0x0800
#define V86_SS 0x7000
#define V86_DS 0x0600
static uint8_t *volatile v86_code = (uint8_t *)(V86_CS << 4);
static struct trap_frame v86_seen;

static bool on_int40(struct trap_frame *f)
{
    v86_seen = *f;
    return true; /* IRET back into V86 mode */
}

static void test_v86_interrupt(void)
{
    memcpy(v86_code, v86_int_start, (size_t)(v86_int_end - v86_int_start));
    uint64_t saved = guest_idt[0x40];
    guest_idt[0x40] |= 3ull << 45; /* DPL 3: INT n from V86 at IOPL 3 */
    trap_set_handler(0x40, on_int40);
    struct v86_regs in = {0}, out = {0};
    in.cs = V86_CS;
    in.ss = V86_SS;
    in.sp = 0xfffe;
    in.ds = in.es = in.fs = in.gs = V86_DS;
    in.eflags = 2 | 3u << 12;
    long r = try_call_v86(&in, &out);
    CHECK_EQ("v86: IRET into V86 and back out", r, 0);
    CHECK("v86: interrupt frame has VM", v86_seen.eflags & (1u << 17));
    CHECK_EQ("v86: interrupt frame CS", v86_seen.cs, V86_CS);
    CHECK_EQ("v86: interrupt frame IP", v86_seen.eip, 5);
    CHECK_EQ("v86: interrupt frame SS:SP", (v86_seen.ss << 16) | v86_seen.esp, (V86_SS << 16) | 0xfffe);
    CHECK_EQ("v86: interrupt frame DS", v86_seen.v86_ds, V86_DS);
    CHECK_EQ("v86: interrupt frame GS", v86_seen.v86_gs, V86_DS);
    /* Segment pushes may leave the upper half of their slot as it was: low 16 bits only. */
    CHECK_EQ("v86: data segments null in the handler",
             (v86_seen.ds | v86_seen.es | v86_seen.fs | v86_seen.gs) & 0xFFFF, 0);
    CHECK_EQ("v86: handler saw V86 BX", v86_seen.ebx & 0xFFFF, 0x1234);
    CHECK_EQ("v86: IRET resumed V86 code", out.ecx & 0xFFFF, 0x5678);
    trap_set_handler(0x40, NULL);

    /* A gate whose code is not ring 0: #GP(code selector). */
    guest_idt[0x40] = gate_desc(SEL_UCODE32, (uint32_t)(uintptr_t)gate_target1, 0xE, 3, 0);
    r = try_call_v86(&in, &out);
    CHECK_EQ("v86: interrupt gate to ring 3 code #GP", r, TRAP_CAUGHT | 13);
    CHECK_EQ("v86: error code is the code selector", trap_last.error_code, SEL_UCODE32 & ~3);
    guest_idt[0x40] = saved;
}

int main(uint32_t mb)
{
    (void)mb;
    test_inner_call();
    test_gate_checks();
    test_v86_interrupt();
    test_finish();
}
