/* Virtual-8086 mode without VME (SDM Vol 3 20.2): entered by IRET with EFLAGS.VM, 16-bit code
 * runs with real-mode segments; CLI, STI, PUSHF, POPF and INT n are IOPL-sensitive (#GP(0) at
 * IOPL < 3, real-mode behaviour at IOPL 3, POPF never changes IOPL or VM); IN/OUT/INS/OUTS
 * always consult the TSS I/O permission bitmap; privileged instructions raise #GP(0). */
#include "guest.h"

/* Each snippet is 16-bit code copied to V86_CS:0 and run with IOPL and IF chosen per case;
 * "int $0x81" returns to the test (possible at IOPL 3 only). */
#define SNIPPET(name, body)                                                                    \
    __asm__(".pushsection .rodata\n.code16\n.globl s_" #name "\ns_" #name ":\n" body            \
            "\n.globl s_" #name "_end\ns_" #name "_end:\n.code32\n.popsection\n");             \
    extern const char s_##name[], s_##name##_end[];

SNIPPET(cli, "cli; int $0x81")
SNIPPET(sti, "sti; int $0x81")
SNIPPET(pushf, "pushf; popw %bx; int $0x81")
SNIPPET(pushfd, "pushfl; popl %ebx; int $0x81")
SNIPPET(popf, "pushw $0; popf; int $0x81")
SNIPPET(popfd, "pushl $0; popfl; int $0x81")
SNIPPET(int21, "int $0x21")
SNIPPET(int3, "int3")
SNIPPET(hlt, "hlt")
SNIPPET(mov_cr0, "mov %cr0, %eax")
SNIPPET(lgdt, "lgdt (0)")
SNIPPET(rdmsr, "rdmsr")
SNIPPET(clts, "clts")
SNIPPET(mov_dr7, "mov %eax, %dr7")
SNIPPET(in80_ud, "inb $0x80, %al; ud2")
SNIPPET(in88, "inb $0x88, %al; int $0x81")
SNIPPET(out80, "outb %al, $0x80; int $0x81")
/* ports 0x87 and 0x88: the word spans two bitmap bytes */
SNIPPET(outsw87, "movw $0x87, %dx; xorw %si, %si; outsw; int $0x81")
SNIPPET(rep_insb, "movw $0x80, %dx; movw $0x100, %di; movw $3, %cx; rep insb; int $0x81")
SNIPPET(segload, "movw $0x0650, %ax; movw %ax, %ds; movw (0x10), %bx; int $0x81")

#define V86_CS 0x0800
#define V86_SS 0x7000
#define V86_DS 0x0600
#define FL_IF 0x200u
#define FL_IOPL 0x3000u
#define FL_VM 0x20000u
#define OK 0L
#define GP (TRAP_CAUGHT | 13)

/* A register of struct v86_regs to compare, by offset; NONE: no check. */
#define REG(f) offsetof(struct v86_regs, f)
#define NONE 0xff

struct v86_case {
    const char *name;
    const char *start, *end;
    unsigned iopl;
    bool ifl;
    long rc;         /* try_call_v86's result */
    int ip;          /* IP of the trap (-1: not checked) */
    uint32_t err;    /* #GP error code */
    uint32_t fl_mask, fl_want; /* EFLAGS at the trap */
    uint8_t reg;     /* REG(...) or NONE */
    uint32_t reg_mask, reg_want;
};

#define S(n) s_##n, s_##n##_end

static const struct v86_case cases[] = {
    /* IOPL-sensitive at IOPL 0: #GP(0) with nothing changed. */
    {"v86_cli_iopl0_gp", S(cli), 0, true, GP, 0, 0, FL_IF, FL_IF, NONE, 0, 0},
    {"v86_sti_iopl0_gp", S(sti), 0, false, GP, 0, 0, FL_IF, 0, NONE, 0, 0},
    {"v86_pushf_iopl0_gp", S(pushf), 0, true, GP, 0, 0, 0, 0, REG(sp), 0xffff, 0xfffe},
    {"v86_pushfd_iopl0_gp", S(pushfd), 0, true, GP, 0, 0, 0, 0, REG(sp), 0xffff, 0xfffe},
    {"v86_popf_iopl0_gp", S(popf), 0, true, GP, 2, 0, FL_IF, FL_IF, REG(sp), 0xffff, 0xfffc},
    {"v86_popfd_iopl0_gp", S(popfd), 0, true, GP, 3, 0, FL_IF, FL_IF, REG(sp), 0xffff, 0xfffa},
    {"v86_int_n_iopl0_gp", S(int21), 0, true, GP, 0, 0, 0, 0, NONE, 0, 0},
    {"v86_int3_not_iopl_sensitive", S(int3), 0, true, TRAP_CAUGHT | 3, 1, 0, 0, 0, NONE, 0, 0},

    /* At IOPL 3 they act as in real mode. */
    {"v86_cli_iopl3", S(cli), 3, true, OK, -1, 0, FL_IF | FL_IOPL, FL_IOPL, NONE, 0, 0},
    {"v86_sti_iopl3", S(sti), 3, false, OK, -1, 0, FL_IF | FL_IOPL, FL_IF | FL_IOPL, NONE, 0, 0},
    {"v86_pushf_iopl3", S(pushf), 3, false, OK, -1, 0, 0, 0, REG(ebx), 0xffff, 0x3002},
    {"v86_pushfd_no_vm", S(pushfd), 3, false, OK, -1, 0, 0, 0, REG(ebx), FL_VM | FL_IOPL, FL_IOPL},
    {"v86_popf_keeps_iopl", S(popf), 3, true, OK, -1, 0, FL_IF | FL_IOPL | FL_VM, FL_IOPL | FL_VM, NONE, 0, 0},
    {"v86_popfd_keeps_vm_iopl", S(popfd), 3, true, OK, -1, 0, FL_IF | FL_IOPL | FL_VM, FL_IOPL | FL_VM, NONE, 0, 0},
    /* INT n at IOPL 3 goes through the IDT: gate 0x21 has DPL 0 < CPL 3. */
    {"v86_int_n_iopl3_gate_dpl", S(int21), 3, true, GP, 0, 0x21 * 8 + 2, 0, 0, NONE, 0, 0},

    /* Privileged: #GP(0) even at IOPL 3. */
    {"v86_hlt_gp", S(hlt), 3, true, GP, 0, 0, 0, 0, NONE, 0, 0},
    {"v86_mov_cr0_gp", S(mov_cr0), 3, true, GP, 0, 0, 0, 0, NONE, 0, 0},
    {"v86_lgdt_gp", S(lgdt), 3, true, GP, 0, 0, 0, 0, NONE, 0, 0},
    {"v86_rdmsr_gp", S(rdmsr), 3, true, GP, 0, 0, 0, 0, NONE, 0, 0},
    {"v86_clts_gp", S(clts), 3, true, GP, 0, 0, 0, 0, NONE, 0, 0},
    {"v86_mov_dr7_gp", S(mov_dr7), 3, true, GP, 0, 0, 0, 0, NONE, 0, 0},

    /* I/O: the bitmap decides, whatever IOPL is (ports 0x80-0x87 allowed). */
    {"v86_in_allowed_iopl0", S(in80_ud), 0, true, TRAP_CAUGHT | 6, 2, 0, 0, 0, NONE, 0, 0},
    {"v86_in_denied_iopl3", S(in88), 3, true, GP, 0, 0, 0, 0, NONE, 0, 0},
    {"v86_out_allowed_iopl3", S(out80), 3, true, OK, -1, 0, 0, 0, NONE, 0, 0},
    {"v86_outsw_spanning_denied", S(outsw87), 3, true, GP, 5, 0, 0, 0, NONE, 0, 0},
    {"v86_rep_insb_allowed", S(rep_insb), 3, true, OK, -1, 0, 0, 0, REG(edi), 0xffff, 0x103},

    /* Segment loads: base = selector << 4, no descriptor. */
    {"v86_segment_load", S(segload), 3, true, OK, -1, 0, 0, 0, REG(ebx), 0xffff, 0xbeef},
};

/* The V86 code page, reached through a volatile so the compiler sees no fixed object. */
static uint8_t *volatile v86_code = (uint8_t *)(V86_CS << 4);

static uint32_t reg_of(const struct v86_regs *r, uint8_t off)
{
    if (off == REG(cs) || off == REG(ip) || off == REG(ss) || off == REG(sp) || off == REG(ds) ||
        off == REG(es) || off == REG(fs) || off == REG(gs)) {
        uint16_t v;
        memcpy(&v, (const char *)r + off, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, (const char *)r + off, 4);
    return v;
}

static void run_case(const struct v86_case *c)
{
    memcpy(v86_code, c->start, (size_t)(c->end - c->start));
    struct v86_regs in = {0}, out = {0};
    in.cs = V86_CS;
    in.ss = V86_SS;
    in.sp = 0xfffe;
    in.ds = in.es = V86_DS;
    in.eflags = 2 | c->iopl << 12 | (c->ifl ? FL_IF : 0);
    long rc = try_call_v86(&in, &out);
    bool ok = rc == c->rc;
    if (ok && c->ip >= 0)
        ok = out.cs == V86_CS && out.ip == c->ip && trap_last.rip == (uint64_t)c->ip;
    if (ok && rc == GP)
        ok = trap_last.error_code == c->err;
    if (ok)
        ok = (out.eflags & FL_VM) && (out.eflags & c->fl_mask) == c->fl_want;
    if (ok && c->reg != NONE)
        ok = (reg_of(&out, c->reg) & c->reg_mask) == c->reg_want;
    check(c->name, ok, "rc 0x%lx (want 0x%lx) cs:ip %x:%x err 0x%x eflags 0x%x ebx 0x%x sp 0x%x edi 0x%x",
          rc, c->rc, out.cs, out.ip, (unsigned)trap_last.error_code, (unsigned)out.eflags,
          (unsigned)out.ebx, out.sp, (unsigned)out.edi);
}

int main(uint32_t mb)
{
    (void)mb;
    iomap_allow(0x80, 8, true);
    *(volatile uint16_t *)(uintptr_t)(0x6500 + 0x10) = 0xbeef;
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
        run_case(&cases[k]);
    test_finish();
}
