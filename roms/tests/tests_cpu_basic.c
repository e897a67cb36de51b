/* First guest-side CPU test kernel: arithmetic, flags, string moves, and exception delivery
 * (#DE, #UD, #BP, #PF) through the IDT with resumption. */
#include "guest.h"

static volatile uint64_t zero = 0;

static void divide_by_zero(void *arg)
{
    volatile uint64_t *out = arg;
    uint64_t a = 10, d = zero, q;
    __asm__ volatile("xorl %%edx, %%edx; divq %2" : "=a"(q) : "a"(a), "r"(d) : "rdx");
    *out = q;
}

static void undefined_opcode(void *arg)
{
    (void)arg;
    __asm__ volatile("ud2");
}

static bool int3_seen;
static uint64_t int3_rip;
static bool on_int3(struct trap_frame *f)
{
    int3_seen = true;
    int3_rip = f->rip; /* a trap: RIP already points past the INT3 */
    return true;
}

static void touch(void *arg)
{
    *(volatile uint64_t *)arg = 0x1234;
}

static void gp_noncanonical(void *arg)
{
    (void)arg;
    *(volatile uint64_t *)0x8000000000000000ull = 1;
}

static void user_probe(void *arg)
{
    uint16_t cs, ss;
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
    *(volatile uint32_t *)arg = (uint32_t)cs << 16 | ss;
}

static void user_hlt(void *arg)
{
    (void)arg;
    __asm__ volatile("hlt");
}

static void user_port_io(void *arg)
{
    (void)arg;
    outb(0x80, 1);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("tests_cpu_basic\n");

    volatile int64_t a = -7, b = 3;
    CHECK_EQ("arith.idiv", a / b, -2);
    CHECK_EQ("arith.irem", a % b, -1);
    volatile uint64_t big = 0xFFFFFFFFFFFFFFFFull;
    CHECK_EQ("arith.wrap", big + 2, 1);
    volatile uint64_t m = 0x100000001ull;
    CHECK_EQ("arith.mul64", m * m, 0x200000001ull);
    uint64_t hi, lo;
    __asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(big), "r"((uint64_t)16));
    CHECK("arith.mulq_128", hi == 15 && lo == 0xFFFFFFFFFFFFFFF0ull);

    uint64_t flags;
    __asm__ volatile("movq $-1, %%rax; addq $1, %%rax; pushfq; popq %0" : "=r"(flags) : : "rax", "cc");
    CHECK("flags.add_carry_zero", (flags & 0x41) == 0x41);

    static char src[300], dst[300];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (char)(i * 7 + 1);
    void *d = dst;
    const void *s = src;
    size_t n = sizeof(src);
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    CHECK("string.rep_movsb", memcmp(src, dst, sizeof(src)) == 0 && n == 0 &&
                                  d == dst + sizeof(dst));

    volatile uint64_t q = 0;
    long r = try_call(divide_by_zero, (void *)&q);
    CHECK_EQ("exc.de_divide_by_zero", r, TRAP_CAUGHT | 0);

    r = try_call(undefined_opcode, NULL);
    CHECK_EQ("exc.ud_ud2", r, TRAP_CAUGHT | 6);

    trap_set_handler(3, on_int3);
    uint64_t after;
    __asm__ volatile("int3\n1: lea 1b(%%rip), %0" : "=r"(after));
    trap_set_handler(3, NULL);
    CHECK("exc.bp_int3_resumes_after", int3_seen && int3_rip == after);

    r = try_call(gp_noncanonical, NULL);
    CHECK("exc.gp_noncanonical", r == (TRAP_CAUGHT | 13) && trap_last.error_code == 0);

    /* Unmap the 2 MiB page at 8 MiB (RAM on any machine this runs on) and touch it: #PF with
     * CR2 = the address; map it back and the same store works. */
    const uint64_t page = 8ull << 20;
    uint64_t *pde = guest_pde(page);
    uint64_t saved = *pde;
    *pde = 0;
    invlpg(page);
    uint64_t target = page + 0x1238;
    r = try_call(touch, (void *)(uintptr_t)target);
    CHECK_EQ("exc.pf_not_present", r, TRAP_CAUGHT | 14);
    CHECK_EQ("exc.pf_cr2", trap_last.cr2, target);
    CHECK_EQ("exc.pf_error_write_not_present", trap_last.error_code & 0x7, 0x2);
    *pde = saved;
    invlpg(page);
    r = try_call(touch, (void *)(uintptr_t)target);
    CHECK("exc.pf_remapped_ok", r == 0 && *(volatile uint64_t *)(uintptr_t)target == 0x1234);

    uint64_t v;
    CHECK("msr.rdmsr_safe_efer", rdmsr_safe(0xC0000080, &v) && (v & (1 << 10)));
    /* SDM: RDMSR of an unimplemented MSR raises #GP(0) (QEMU's TCG returns 0 instead). */
    bool ok = rdmsr_safe(0x12345678, &v);
    check("msr.rdmsr_safe_bogus_gp", !ok && trap_last.vector == 13, "rdmsr ok=%d vector=%llu", ok,
          (unsigned long long)trap_last.vector);

    volatile uint32_t sels = 0;
    r = try_call_user(user_probe, (void *)&sels);
    check("ring3.round_trip", r == 0 && sels == (0x2Bu << 16 | 0x23), "r=0x%lx cs:ss=0x%x", r, sels);
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    CHECK_EQ("ring3.back_at_cpl0", cs, 0x08);
    r = try_call_user(user_hlt, NULL);
    check("ring3.hlt_gp", r == (TRAP_CAUGHT | 13) && trap_last.error_code == 0, "r=0x%lx err=0x%llx", r,
          (unsigned long long)trap_last.error_code);
    r = try_call_user(user_port_io, NULL);
    CHECK_EQ("ring3.port_io_gp_iopl0", r, TRAP_CAUGHT | 13);

    test_finish();
}
