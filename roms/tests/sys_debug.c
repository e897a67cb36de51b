/* Debug facilities and alignment check (SDM Vol 3 17.2-17.3, 6.15 #DB and #AC): single step,
 * instruction / data / I/O breakpoints with every LEN, DR6 status bits, general detect, RF,
 * the MOV SS hold, INT1 and INT3, MOV DR rules, and #AC at ring 3. */
#include "guest.h"

#define RFL_TF (1ull << 8)
#define RFL_RF (1ull << 16)
#define RFL_AC (1ull << 18)
#define CR0_AM (1ull << 18)
#define CR4_DE (1ull << 3)
#define DR6_BS (1ull << 14)
#define DR6_BD (1ull << 13)
#define DR7_GD (1ull << 13)

#define RD_DR(n) ({ uint64_t v_; __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v_)); v_; })
#define WR_DR(n, v) __asm__ volatile("mov %0, %%dr" #n ::"r"((uint64_t)(v)) : "memory")

static void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }

/* DR7 for breakpoint n enabled locally with R/W rw and LEN len (the field encodings). */
static uint64_t dr7_bp(unsigned n, unsigned rw, unsigned len)
{
    return (1ull << (2 * n)) | (uint64_t)rw << (16 + 4 * n) | (uint64_t)len << (18 + 4 * n);
}

/* What the #DB handler saw, per trap. */
#define LOG_MAX 16
static volatile struct {
    unsigned n;
    uint64_t rip[LOG_MAX], dr6[LOG_MAX], dr7[LOG_MAX], rflags[LOG_MAX];
} dbl;
enum { DB_SET_RF = 1, DB_DISARM = 2, DB_KEEP_DR6 = 4 };
static volatile unsigned db_flags;

static bool on_db(struct trap_frame *f)
{
    unsigned k = dbl.n;
    if (k < LOG_MAX) {
        dbl.rip[k] = f->rip;
        dbl.dr6[k] = RD_DR(6);
        dbl.dr7[k] = RD_DR(7);
        dbl.rflags[k] = f->rflags;
    }
    dbl.n = k + 1;
    if (!(db_flags & DB_KEEP_DR6))
        WR_DR(6, 0);
    if (db_flags & DB_DISARM)
        WR_DR(7, 0);
    if (db_flags & DB_SET_RF)
        f->rflags |= RFL_RF;
    if (dbl.n >= LOG_MAX)
        f->rflags &= ~RFL_TF; /* a runaway step stops here */
    return true;
}

static void db_reset(unsigned flags)
{
    WR_DR(7, 0);
    WR_DR(6, 0);
    dbl.n = 0;
    db_flags = flags;
}

static uint64_t b03(uint64_t dr6) { return dr6 & 0xf; }

/* ---- single step ---- */

static void single_step(void)
{
    db_reset(0);
    uint64_t l1, l2, l3;
    __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq\n"
                     "nop\n"
                     "1: nop\n"
                     "2: pushfq; andq $~0x100, (%%rsp); popfq\n"
                     "3:\n"
                     "lea 1b(%%rip), %0; lea 2b(%%rip), %1; lea 3b(%%rip), %2"
                     : "=r"(l1), "=r"(l2), "=r"(l3)::"memory", "cc");
    /* Traps after nop, nop, pushfq, andq, and the popfq that clears TF (TF as it began). */
    CHECK_EQ("step.trap_count", dbl.n, 5);
    CHECK_EQ("step.not_after_popf_setting_tf", dbl.rip[0], l1);
    CHECK_EQ("step.second_trap", dbl.rip[1], l2);
    CHECK_EQ("step.after_popf_clearing_tf", dbl.rip[4], l3);
    CHECK("step.dr6_bs", (dbl.dr6[0] & DR6_BS) && b03(dbl.dr6[0]) == 0);
    CHECK("step.pushed_tf_rf", (dbl.rflags[0] & (RFL_TF | RFL_RF)) == RFL_TF);
}

static volatile uint64_t int40_flags, int40_frame_flags;
static bool on_int40(struct trap_frame *f)
{
    uint64_t fl;
    __asm__ volatile("pushfq; popq %0" : "=r"(fl));
    int40_flags = fl;
    int40_frame_flags = f->rflags;
    return true;
}

static void step_over_int_n(void)
{
    db_reset(0);
    trap_set_handler(0x40, on_int40);
    uint64_t l5, l6;
    __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq\n"
                     "int $0x40\n"
                     "nop\n"
                     "5: pushfq; andq $~0x100, (%%rsp); popfq\n"
                     "6:\n"
                     "lea 5b(%%rip), %0; lea 6b(%%rip), %1"
                     : "=r"(l5), "=r"(l6)::"memory", "cc");
    trap_set_handler(0x40, NULL);
    CHECK("step.int_n_handler_runs_without_tf", !(int40_flags & RFL_TF));
    CHECK("step.int_n_frame_keeps_tf", int40_frame_flags & RFL_TF);
    /* No trap in the handler nor right after its IRET: the first is after the NOP. */
    CHECK_EQ("step.int_n_first_trap_after_next_insn", dbl.rip[0], l5);
    CHECK_EQ("step.int_n_trap_count", dbl.n, 4);
    CHECK_EQ("step.int_n_last", dbl.rip[3], l6);
}

static void mov_ss_hold(void)
{
    db_reset(0);
    uint64_t l7;
    __asm__ volatile("mov %%ss, %%eax\n"
                     "pushfq; orq $0x100, (%%rsp); popfq\n"
                     "mov %%eax, %%ss\n"
                     "nop\n"
                     "7: pushfq; andq $~0x100, (%%rsp); popfq\n"
                     "lea 7b(%%rip), %0"
                     : "=r"(l7)::"rax", "memory", "cc");
    CHECK_EQ("mov_ss.holds_single_step_one_insn", dbl.rip[0], l7);
    CHECK_EQ("mov_ss.trap_count", dbl.n, 4);
}

/* ---- INT1 / INT3 ---- */

static void do_int1(void *arg)
{
    (void)arg;
    __asm__ volatile(".byte 0xf1");
}

static void do_int_1(void *arg)
{
    (void)arg;
    __asm__ volatile("int $1");
}

static void do_int3(void *arg)
{
    (void)arg;
    __asm__ volatile("int3");
}

static void int1_int3(void)
{
    db_reset(0);
    uint64_t l;
    __asm__ volatile(".byte 0xf1\n1: lea 1b(%%rip), %0" : "=r"(l)::"memory");
    CHECK_EQ("int1.trap_rip", dbl.rip[0], l);
    CHECK_EQ("int1.no_dr6_status", dbl.dr6[0] & 0xe00f, 0);
    trap_set_handler(1, NULL);
    /* INT1 skips the gate's DPL check (the #DB gate is DPL 0); INT 1 does not. */
    CHECK_EQ("int1.from_ring3_skips_dpl", try_call_user(do_int1, NULL), TRAP_CAUGHT | 1);
    CHECK_EQ("int_1.from_ring3_gp", try_call_user(do_int_1, NULL), TRAP_CAUGHT | 13);
    CHECK_EQ("int_1.gp_error_code", trap_last.error_code, 1 * 8 + 2);
    CHECK_EQ("int3.from_ring3_dpl3_gate", try_call_user(do_int3, NULL), TRAP_CAUGHT | 3);
    /* Make the #BP gate DPL 0: INT3 from ring 3 now fails the DPL check. */
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    volatile uint8_t *type = (volatile uint8_t *)(uintptr_t)(idtr.base + 16 * 3 + 5);
    uint8_t old = *type;
    *type = 0x8e;
    long r = try_call_user(do_int3, NULL);
    *type = old;
    CHECK_EQ("int3.dpl_check_gp", r, TRAP_CAUGHT | 13);
    CHECK_EQ("int3.dpl_check_error_code", trap_last.error_code, 3 * 8 + 2);
    trap_set_handler(1, on_db);
}

/* ---- instruction breakpoints ---- */

void exec_fn(void);
extern char exec_at[];
__asm__(".text\n.globl exec_fn\nexec_fn: nop\n.globl exec_at\nexec_at: nop\nret\n");

static void exec_breakpoints(void)
{
    db_reset(DB_SET_RF);
    WR_DR(0, (uint64_t)(uintptr_t)exec_at);
    WR_DR(7, dr7_bp(0, 0, 0));
    exec_fn();
    CHECK_EQ("bp.exec_fault_count", dbl.n, 1);
    CHECK_EQ("bp.exec_fault_rip", dbl.rip[0], (uint64_t)(uintptr_t)exec_at);
    CHECK_EQ("bp.exec_dr6_b0", b03(dbl.dr6[0]), 1);
    CHECK_EQ("bp.exec_pushed_rf_0", dbl.rflags[0] & RFL_RF, 0);
    exec_fn();
    CHECK_EQ("bp.exec_refires_after_rf_cleared", dbl.n, 2);
    /* DR3 with G3 (global enable). */
    db_reset(DB_DISARM);
    WR_DR(0, 0);
    WR_DR(3, (uint64_t)(uintptr_t)exec_at);
    WR_DR(7, 2ull << 6);
    exec_fn();
    CHECK("bp.exec_dr3_global", dbl.n == 1 && b03(dbl.dr6[0]) == 8);
    /* Not enabled: no fault. */
    db_reset(0);
    WR_DR(0, (uint64_t)(uintptr_t)exec_at);
    exec_fn();
    CHECK_EQ("bp.exec_disabled", dbl.n, 0);
    db_reset(0);
}

/* ---- data breakpoints ---- */

static volatile uint8_t watch[32] __attribute__((aligned(32)));

static uint64_t store_at(unsigned off)
{
    uint64_t l;
    __asm__ volatile("movb $1, (%1)\n1: lea 1b(%%rip), %0" : "=r"(l) : "r"(&watch[off]) : "memory");
    return l;
}

static uint64_t load_at(unsigned off)
{
    uint64_t l;
    uint8_t v;
    __asm__ volatile("movb (%2), %1\n1: lea 1b(%%rip), %0" : "=r"(l), "=q"(v) : "r"(&watch[off]) : "memory");
    return l;
}

static const struct {
    const char *hit, *miss;
    unsigned len_enc, last, next; /* LEN field, last byte covered, first byte after */
} len_cases[] = {
    {"bp.len1_hit", "bp.len1_next_byte_miss", 0, 0, 1},
    {"bp.len2_hit_last_byte", "bp.len2_next_byte_miss", 1, 1, 2},
    {"bp.len4_hit_last_byte", "bp.len4_next_byte_miss", 3, 3, 4},
    {"bp.len8_hit_last_byte", "bp.len8_next_byte_miss", 2, 7, 8},
};

static void data_breakpoints(void)
{
    uint64_t base = (uint64_t)(uintptr_t)&watch[8];
    db_reset(0);
    WR_DR(1, base);
    WR_DR(7, dr7_bp(1, 1, 3));
    uint64_t l = store_at(10);
    CHECK("bp.write_trap_after_store", dbl.n == 1 && dbl.rip[0] == l);
    CHECK_EQ("bp.write_dr6_b1", b03(dbl.dr6[0]), 2);
    CHECK_EQ("bp.write_pushed_rf_0", dbl.rflags[0] & RFL_RF, 0);
    load_at(10);
    CHECK_EQ("bp.write_ignores_read", dbl.n, 1);
    WR_DR(7, dr7_bp(1, 3, 3));
    l = load_at(11);
    CHECK("bp.rw_read_trap", dbl.n == 2 && dbl.rip[1] == l && b03(dbl.dr6[1]) == 2);
    /* The address is aligned down to the length: DR1 = base + 3 covers base..base+3. */
    db_reset(0);
    WR_DR(1, base + 3);
    WR_DR(7, dr7_bp(1, 1, 3));
    store_at(8);
    CHECK_EQ("bp.len4_address_aligned_down", dbl.n, 1);
    for (unsigned k = 0; k < sizeof(len_cases) / sizeof(len_cases[0]); k++) {
        db_reset(0);
        WR_DR(2, base);
        WR_DR(7, dr7_bp(2, 1, len_cases[k].len_enc));
        store_at(8 + len_cases[k].last);
        CHECK(len_cases[k].hit, dbl.n == 1 && b03(dbl.dr6[0]) == 4);
        store_at(8 + len_cases[k].next);
        CHECK_EQ(len_cases[k].miss, dbl.n, 1);
    }
    /* Two breakpoints met by one store: both B bits in one #DB; a condition met whose
     * breakpoint is not enabled is reported alongside an enabled one. */
    db_reset(0);
    WR_DR(0, base);
    WR_DR(1, base + 1);
    WR_DR(7, dr7_bp(0, 1, 0) | dr7_bp(1, 1, 0));
    __asm__ volatile("movw $1, (%0)" ::"r"(&watch[8]) : "memory");
    CHECK("bp.two_hits_one_db", dbl.n == 1 && b03(dbl.dr6[0]) == 3);
    db_reset(0);
    WR_DR(0, base);
    WR_DR(1, base);
    WR_DR(7, dr7_bp(0, 1, 0) | (1ull << 20)); /* DR1: R/W = 01 but L1/G1 clear */
    store_at(8);
    CHECK("bp.unenabled_match_reported", dbl.n == 1 && b03(dbl.dr6[0]) == 3);
    /* DR6 is sticky: the processor does not clear earlier status bits. */
    db_reset(DB_KEEP_DR6);
    WR_DR(0, base);
    WR_DR(1, base + 4);
    WR_DR(7, dr7_bp(0, 1, 0) | dr7_bp(1, 1, 0));
    store_at(8);
    store_at(12);
    CHECK("dr6.sticky_status_bits", dbl.n == 2 && b03(dbl.dr6[1]) == 3);
    /* A data breakpoint and single step on the same instruction: one #DB with both. */
    db_reset(0);
    WR_DR(0, base);
    WR_DR(7, dr7_bp(0, 1, 0));
    uint64_t l8;
    __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq\n"
                     "movb $1, (%1)\n"
                     "8: pushfq; andq $~0x100, (%%rsp); popfq\n"
                     "lea 8b(%%rip), %0"
                     : "=r"(l8)
                     : "r"(&watch[8])
                     : "memory", "cc");
    CHECK("bp.data_and_step_one_db", dbl.n == 4 && dbl.rip[0] == l8 &&
                                         (dbl.dr6[0] & (DR6_BS | 0xf)) == (DR6_BS | 1));
    db_reset(0);
}

/* ---- I/O breakpoints ---- */

static void io_breakpoints(void)
{
    uint64_t cr4 = read_cr4();
    db_reset(0);
    WR_DR(0, 0x80);
    WR_DR(7, dr7_bp(0, 2, 0));
    outb(0x80, 0);
    CHECK_EQ("bp.io_without_cr4_de_ignored", dbl.n, 0);
    write_cr4(cr4 | CR4_DE);
    uint64_t l;
    __asm__ volatile("outb %%al, $0x80\n1: lea 1b(%%rip), %0" : "=r"(l) : "a"(0) : "memory");
    CHECK("bp.io_trap_after_out", dbl.n == 1 && dbl.rip[0] == l && b03(dbl.dr6[0]) == 1);
    inb(0x80);
    CHECK_EQ("bp.io_in_traps", dbl.n, 2);
    outb(0x81, 0);
    CHECK_EQ("bp.io_other_port_misses", dbl.n, 2);
    WR_DR(0, 0x81);
    outw(0x80, 0);
    CHECK_EQ("bp.io_word_covers_port", dbl.n, 3);
    db_reset(0);
    write_cr4(cr4);
}

/* ---- MOV DR rules, general detect ---- */

static void read_dr0(void *arg) { *(volatile uint64_t *)arg = RD_DR(0); }
static void read_dr7(void *arg) { *(volatile uint64_t *)arg = RD_DR(7); }
static void read_dr4(void *arg) { *(volatile uint64_t *)arg = RD_DR(4); }
static void write_dr7_high(void *arg) { (void)arg; WR_DR(7, 1ull << 32); }
static void write_dr6_high(void *arg) { (void)arg; WR_DR(6, 1ull << 40); }

static void mov_dr_rules(void)
{
    uint64_t v = 0;
    db_reset(0);
    WR_DR(7, 0xffff0000ull);
    CHECK_EQ("dr.dr7_fixed_bits", RD_DR(7), 0xffff0400ull);
    WR_DR(7, 0);
    WR_DR(6, 0);
    CHECK_EQ("dr.dr6_fixed_bits", RD_DR(6), 0xffff0ff0ull);
    WR_DR(0, 0xffff800012345678ull);
    CHECK_EQ("dr.dr0_64_bits", RD_DR(0), 0xffff800012345678ull);
    CHECK_EQ("dr.dr4_aliases_dr6", RD_DR(4), RD_DR(6));
    CHECK_EQ("dr.dr5_aliases_dr7", RD_DR(5), RD_DR(7));
    uint64_t cr4 = read_cr4();
    write_cr4(cr4 | CR4_DE);
    CHECK_EQ("dr.dr4_with_cr4_de_ud", try_call(read_dr4, &v), TRAP_CAUGHT | 6);
    write_cr4(cr4);
    CHECK_EQ("dr.dr7_high_bits_gp", try_call(write_dr7_high, NULL), TRAP_CAUGHT | 13);
    CHECK_EQ("dr.dr6_high_bits_gp", try_call(write_dr6_high, NULL), TRAP_CAUGHT | 13);
    CHECK_EQ("dr.ring3_mov_dr_gp", try_call_user(read_dr7, &v), TRAP_CAUGHT | 13);
    /* GD: the next MOV DR faults (RIP at it, RF = 1 pushed), DR6.BD set, GD clear in the
     * handler; the handler's IRET then re-runs the MOV, which succeeds. */
    db_reset(0);
    WR_DR(0, 0x1234);
    WR_DR(7, DR7_GD);
    v = 0;
    read_dr0(&v);
    CHECK_EQ("gd.one_fault", dbl.n, 1);
    CHECK("gd.dr6_bd", dbl.dr6[0] & DR6_BD);
    CHECK_EQ("gd.cleared_in_handler", dbl.dr7[0] & DR7_GD, 0);
    CHECK("gd.pushed_rf_1", dbl.rflags[0] & RFL_RF);
    CHECK_EQ("gd.mov_completes_after", v, 0x1234);
    db_reset(0);
}

/* ---- alignment check ---- */

static volatile uint8_t acbuf[16] __attribute__((aligned(16)));

static void user_misaligned(void *arg)
{
    unsigned off = (unsigned)(uintptr_t)arg;
    __asm__ volatile("pushfq; orl $0x40000, (%%rsp); popfq\n"
                     "movl (%0), %%eax\n"
                     "pushfq; andl $~0x40000, (%%rsp); popfq" ::"r"(&acbuf[off])
                     : "rax", "memory", "cc");
}

static void user_misaligned_no_ac(void *arg)
{
    unsigned off = (unsigned)(uintptr_t)arg;
    __asm__ volatile("movl (%0), %%eax" ::"r"(&acbuf[off]) : "rax", "memory");
}

static void clear_ac(void)
{
    __asm__ volatile("pushfq; andl $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
}

static void alignment_check(void)
{
    uint64_t cr0 = read_cr0();
    CHECK_EQ("ac.ring3_am_clear_none", try_call_user(user_misaligned, (void *)2), 0);
    clear_ac();
    write_cr0(cr0 | CR0_AM);
    CHECK_EQ("ac.ring3_misaligned_dword", try_call_user(user_misaligned, (void *)2), TRAP_CAUGHT | 17);
    CHECK_EQ("ac.error_code_0", trap_last.error_code, 0);
    clear_ac();
    CHECK_EQ("ac.ring3_aligned_dword", try_call_user(user_misaligned, (void *)4), 0);
    clear_ac();
    CHECK_EQ("ac.ring3_flag_clear_none", try_call_user(user_misaligned_no_ac, (void *)2), 0);
    /* Ring 0 is never checked. */
    __asm__ volatile("pushfq; orl $0x40000, (%%rsp); popfq\n"
                     "movl (%0), %%eax\n"
                     "pushfq; andl $~0x40000, (%%rsp); popfq" ::"r"(&acbuf[2])
                     : "rax", "memory", "cc");
    CHECK("ac.ring0_unchecked", true);
    write_cr0(cr0);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("sys_debug\n");
    trap_set_handler(1, on_db);
    single_step();
    step_over_int_n();
    mov_ss_hold();
    int1_int3();
    exec_breakpoints();
    data_breakpoints();
    io_breakpoints();
    mov_dr_rules();
    alignment_check();
    test_finish();
}
