/* Cross-VP code and TLB coherence (run with --smp 2 --append vps=2): code one VP decoded and
 * another VP rewrites (directly, through an alias, and while the first VP spins in it with the
 * serializing instruction SDM Vol 3 9.1.3 asks for), and a TLB shootdown by IPI. Without
 * "vps=2" on the command line it checks only the single-VP part and passes. */
#include "guest.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PG 4096ull
#define TB 0x8000000000ull
#define VA(i) (TB + (uint64_t)(i) * PG)

#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
#define TRAMP_ADDR 0x9000u /* SIPI vector 0x09 */
#define VEC_SHOOT 0x61

static uint64_t pdpt_a[512] __attribute__((aligned(4096)));
static uint64_t pd_a[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_a[512] __attribute__((aligned(4096)));
static uint8_t code[3][4096] __attribute__((aligned(4096)));
static uint64_t data[2][512] __attribute__((aligned(4096)));
static uint8_t ap_stack[16384] __attribute__((aligned(16)));

/* A loop that reads its own immediate until another VP changes it from 0, serializing with
 * CPUID each round as cross-modifying code requires of the executing processor; bounded. */
uint32_t smp_spin(void);
uint32_t smp_spin_noserial(void);
volatile uint32_t smp_spin_count; /* on a data page: the spin loops must not write their own page */
extern volatile uint8_t smp_spin_imm[], smp_spin2_imm[];
__asm__(".pushsection .data.smpcode, \"awx\"\n"
        ".balign 4096\n"
        ".globl smp_spin, smp_spin_imm, smp_spin_noserial, smp_spin2_imm\n"
        "smp_spin:\n"
        "  pushq %rbx\n"
        "  movl $50000000, %r9d\n"
        "1:\n"
        "  incl smp_spin_count(%rip)\n"
        "  .byte 0xB8\n" /* mov $imm32, %eax */
        "smp_spin_imm:\n"
        "  .long 0\n"
        "  testl %eax, %eax\n"
        "  jnz 2f\n"
        "  xorl %eax, %eax\n"
        "  cpuid\n"
        "  decl %r9d\n"
        "  jnz 1b\n"
        "  xorl %eax, %eax\n"
        "2:\n"
        "  popq %rbx\n"
        "  ret\n"
        ".balign 64\n"
        "smp_spin_noserial:\n"
        "  movl $3000000, %r9d\n"
        "1:\n"
        "  incl smp_spin_count(%rip)\n"
        "  .byte 0xB8\n"
        "smp_spin2_imm:\n"
        "  .long 0\n"
        "  testl %eax, %eax\n"
        "  jnz 2f\n"
        "  decl %r9d\n"
        "  jnz 1b\n"
        "2:\n"
        "  ret\n"
        ".balign 4096\n"
        ".popsection\n");

enum { CMD_NONE, CMD_CALL, CMD_PATCH, CMD_READ, CMD_SPIN, CMD_SPIN2, CMD_ALIAS_WRITE };
static volatile unsigned ap_ready, ap_cmd, ap_done, ap_shoot_acks;
static volatile uint64_t ap_arg, ap_arg2, ap_result;
static volatile uint64_t shoot_va;

static bool on_shoot(struct trap_frame *f)
{
    (void)f;
    invlpg(shoot_va);
    ap_shoot_acks++;
    LAPIC(0xB0) = 0;
    return true;
}

void smp_ap_main(void);
void smp_ap_main(void)
{
    LAPIC(0xF0) = 0x1FF;
    ap_ready = 1;
    for (;;) {
        /* The interrupt window is the boundary after PAUSE; the jump also ends a translation
         * block in emulators that look for interrupts only between blocks. */
        __asm__ volatile("sti; pause; jmp 1f; 1: cli" ::: "memory");
        unsigned c = ap_cmd;
        if (c == CMD_NONE)
            continue;
        if (c == CMD_CALL)
            ap_result = ((uint32_t (*)(void))(uintptr_t)ap_arg)();
        else if (c == CMD_PATCH || c == CMD_ALIAS_WRITE)
            *(volatile uint32_t *)(uintptr_t)ap_arg = (uint32_t)ap_arg2;
        else if (c == CMD_READ)
            ap_result = *(volatile uint64_t *)(uintptr_t)ap_arg;
        else if (c == CMD_SPIN)
            ap_result = smp_spin();
        else if (c == CMD_SPIN2)
            ap_result = smp_spin_noserial();
        ap_cmd = CMD_NONE;
        ap_done++;
    }
}

static void delay(unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        __asm__ volatile("pause" ::: "memory");
}

static bool ap_wait(unsigned d)
{
    for (unsigned long i = 0; i < 50000000ul && ap_done == d; i++)
        __asm__ volatile("pause" ::: "memory");
    return ap_done != d;
}

static bool ap_run(unsigned cmd, uint64_t arg, uint64_t arg2)
{
    unsigned d = ap_done;
    ap_arg = arg;
    ap_arg2 = arg2;
    ap_cmd = cmd;
    return ap_wait(d);
}

static bool start_ap(void)
{
    smp_prepare_ap(TRAMP_ADDR, smp_ap_main, ap_stack + sizeof(ap_stack));
    lapic_icr_send(1, 0x4500); /* INIT */
    delay(200000);
    lapic_icr_send(1, 0x4600 | (TRAMP_ADDR >> 12)); /* SIPI */
    delay(20000);
    if (!ap_ready)
        lapic_icr_send(1, 0x4600 | (TRAMP_ADDR >> 12));
    for (unsigned i = 0; i < 2000 && !ap_ready; i++)
        delay(10000);
    return ap_ready;
}

static void put_mov_ret(volatile uint8_t *p, uint32_t imm)
{
    p[0] = 0xB8;
    p[1] = (uint8_t)imm;
    p[2] = (uint8_t)(imm >> 8);
    p[3] = (uint8_t)(imm >> 16);
    p[4] = (uint8_t)(imm >> 24);
    p[5] = 0xC3;
}

static void map(unsigned i, uint64_t pa)
{
    pt_a[i] = pa | PTE_P | PTE_RW;
    invlpg(VA(i));
}

static void test_cross_vp_smc(void)
{
    volatile uint8_t *c0 = code[0] + 0x40;
    uint64_t f0 = (uint64_t)(uintptr_t)c0;
    put_mov_ret(c0, 1);
    CHECK("smp.ap_runs_code", ap_run(CMD_CALL, f0, 0) && ap_result == 1);
    CHECK("smp.ap_runs_code_hot", ap_run(CMD_CALL, f0, 0) && ap_result == 1);
    *(volatile uint32_t *)(c0 + 1) = 2;
    CHECK("smp.bsp_patch_seen_by_ap", ap_run(CMD_CALL, f0, 0) && ap_result == 2);

    /* The AP patches code the BSP decoded. */
    uint32_t (*f)(void) = (uint32_t (*)(void))(uintptr_t)f0;
    CHECK_EQ("smp.bsp_runs_code", f(), 2);
    CHECK("smp.ap_patch_done", ap_run(CMD_PATCH, f0 + 1, 3));
    CHECK_EQ("smp.ap_patch_seen_by_bsp", f(), 3);

    /* The AP writes through an alias (its TLB holds a write translation made before the page
     * held code) while the BSP executes through the identity map. */
    volatile uint8_t *c1 = code[1] + 0x80;
    uint64_t f1 = (uint64_t)(uintptr_t)c1;
    map(0, (uint64_t)(uintptr_t)code[1]);
    CHECK("smp.ap_alias_write_before_code", ap_run(CMD_ALIAS_WRITE, VA(0) + 0x100, 0));
    put_mov_ret(c1, 4);
    CHECK_EQ("smp.bsp_runs_alias_page_code", ((uint32_t (*)(void))(uintptr_t)f1)(), 4);
    CHECK("smp.ap_alias_patch_done", ap_run(CMD_ALIAS_WRITE, VA(0) + 0x81, 5));
    CHECK_EQ("smp.ap_alias_patch_seen_by_bsp", ((uint32_t (*)(void))(uintptr_t)f1)(), 5);
    CHECK("smp.ap_runs_alias_patched", ap_run(CMD_CALL, f1, 0) && ap_result == 5);

    /* The AP spins in code the BSP rewrites under it. */
    smp_spin_imm[0] = 0;
    smp_spin_count = 0;
    unsigned d = ap_done;
    ap_cmd = CMD_SPIN;
    for (unsigned long i = 0; i < 50000000ul && smp_spin_count < 1000; i++)
        __asm__ volatile("pause" ::: "memory");
    CHECK("smp.ap_spinning", smp_spin_count >= 1000);
    *(volatile uint32_t *)smp_spin_imm = 0x77;
    bool fin = ap_wait(d);
    check("smp.ap_spin_sees_patch", fin && ap_result == 0x77, "AP %s, result 0x%llx after %u rounds",
          fin ? "returned" : "still spinning", (unsigned long long)ap_result, smp_spin_count);
    *(volatile uint32_t *)smp_spin_imm = 0;

    /* Without the serializing instruction the SDM promises nothing; report what happens. */
    smp_spin_count = 0;
    d = ap_done;
    ap_cmd = CMD_SPIN2;
    for (unsigned long i = 0; i < 50000000ul && smp_spin_count < 1000; i++)
        __asm__ volatile("pause" ::: "memory");
    *(volatile uint32_t *)smp_spin2_imm = 0x88;
    bool done = ap_wait(d);
    printf("INFO: unserialized spin %s the patch (result 0x%llx)\n", done && ap_result == 0x88 ? "saw" : "missed",
           (unsigned long long)ap_result);
    *(volatile uint32_t *)smp_spin2_imm = 0;
}

static void test_shootdown(void)
{
    for (unsigned i = 0; i < 512; i++)
        data[0][i] = 0xD0D0D0D000000000ull | i, data[1][i] = 0xD1D1D1D100000000ull | i;
    map(1, (uint64_t)(uintptr_t)data[0]);
    CHECK("smp.ap_reads_old", ap_run(CMD_READ, VA(1) + 8, 0) && ap_result == data[0][1]);
    pt_a[1] = (uint64_t)(uintptr_t)data[1] | PTE_P | PTE_RW;
    invlpg(VA(1));
    CHECK_EQ("smp.bsp_sees_new_after_own_invlpg", *(volatile uint64_t *)(uintptr_t)(VA(1) + 8), data[1][1]);
    (void)ap_run(CMD_READ, VA(1) + 8, 0);
    printf("INFO: AP before the shootdown read the %s page\n", ap_result == data[0][1] ? "old (cached)" : "new");
    shoot_va = VA(1);
    unsigned acks = ap_shoot_acks;
    lapic_icr_send(1, 0x4000 | VEC_SHOOT); /* fixed, physical, to APIC ID 1 */
    for (unsigned long i = 0; i < 50000000ul && ap_shoot_acks == acks; i++)
        __asm__ volatile("pause" ::: "memory");
    check("smp.shootdown_ipi_acked", ap_shoot_acks == acks + 1, "acks %u -> %u, ICR 0x%x", acks, ap_shoot_acks,
          LAPIC(0x300));
    CHECK("smp.ap_reads_new_after_shootdown", ap_run(CMD_READ, VA(1) + 8, 0) && ap_result == data[1][1]);
}

int main(uint32_t mb_info)
{
    const char *cl = guest_cmdline(mb_info);
    guest_pml4[1] = (uint64_t)(uintptr_t)pdpt_a | PTE_P | PTE_RW;
    pdpt_a[0] = (uint64_t)(uintptr_t)pd_a | PTE_P | PTE_RW;
    pd_a[0] = (uint64_t)(uintptr_t)pt_a | PTE_P | PTE_RW;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
    *(volatile uint32_t *)smp_spin_imm = 9;
    CHECK_EQ("smp.bsp_spin_single_vp", smp_spin(), 9);
    *(volatile uint32_t *)smp_spin_imm = 0;
    if (!cmdline_has_word(cl, "vps=2")) {
        printf("SKIP: smp.* cross-VP checks (run with --smp 2 --append vps=2)\n");
        test_finish();
    }
    LAPIC(0xF0) = 0x1FF;
    trap_set_handler(VEC_SHOOT, on_shoot);
    bool up = start_ap();
    CHECK("smp.ap_started", up);
    if (!up)
        test_finish();
    test_cross_vp_smc();
    test_shootdown();
    test_finish();
}
