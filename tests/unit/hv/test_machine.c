/* The machine and its run loop: stop reasons and exit statuses, several machines in one
 * process, determinism of the virtual clock. Guests are a few real-mode bytes at the reset
 * vector, in a ROM mapped below 4 GiB. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/machine.h"

struct capture {
    char buf[256];
    size_t len;
};

static void cap_tx(void *opaque, uint8_t byte)
{
    struct capture *c = opaque;
    if (c->len + 1 < sizeof(c->buf))
        c->buf[c->len++] = (char)byte;
}

/* Creates a machine whose reset vector (F000:FFF0) runs code. */
static void boot_at(struct machine *m, struct capture *cap, const uint8_t *code, size_t len,
                    uint64_t max_insns, bool at_rom_start);

static void boot(struct machine *m, struct capture *cap, const uint8_t *code, size_t len,
                 uint64_t max_insns)
{
    boot_at(m, cap, code, len, max_insns, false);
}

/* at_rom_start: code lies at F000:0000 and the reset vector jumps there (for longer guests). */
static void boot_at(struct machine *m, struct capture *cap, const uint8_t *code, size_t len,
                    uint64_t max_insns, bool at_rom_start)
{
    struct machine_config cfg = {
        .ram_size = 16ull << 20,
        .smp = 1,
        .serial = SERIAL_STDIO,
        .serial_tx = cap_tx,
        .serial_opaque = cap,
        .max_insns = max_insns,
    };
    char err[256];
    cr_assert_eq(machine_create(m, &cfg, err, sizeof(err)), 0, "%s", err);
    static uint8_t rom[0x10000];
    memset(rom, 0xF4, sizeof(rom)); /* HLT everywhere else */
    if (at_rom_start) {
        cr_assert(len <= 0xFFF0);
        memcpy(rom, code, len);
        static const uint8_t jmp_to_0[] = {0xE9, 0x0D, 0x00}; /* IP 0xFFF3 + 0x000D wraps to 0 */
        memcpy(rom + 0xFFF0, jmp_to_0, sizeof(jmp_to_0));
    } else {
        cr_assert(len <= 16);
        memcpy(rom + 0xFFF0, code, len);
    }
    cr_assert_eq(physmem_map_rom(&m->mem, 0xFFFF0000, rom, sizeof(rom), "test-rom"), 0);
    /* As on a PC, the same ROM also answers at F000:0000 once CS is reloaded in real mode. */
    cr_assert_eq(physmem_map_rom(&m->mem, 0xF0000, rom, sizeof(rom), "test-rom-low"), 0);
}

struct stop_case {
    const char *name;
    uint8_t code[16];
    size_t len;
    uint64_t max_insns;
    bool empty_idt;
    enum machine_stop stop;
    int status;
    const char *output;
};

static const struct stop_case stop_cases[] = {
    /* mov al,'A'; mov dx,0x3f8; out dx,al; mov al,0x21; out 0xf4,al */
    {"debug-exit", {0xB0, 'A', 0xBA, 0xF8, 0x03, 0xEE, 0xB0, 0x21, 0xE6, 0xF4}, 10, 0, false,
     MSTOP_DEBUG_EXIT, (0x21 << 1) | 1, "A"},
    /* mov dx,0x604; mov ax,0x3400 (SLP_TYP 5, SLP_EN); out dx,ax */
    {"acpi-poweroff", {0xBA, 0x04, 0x06, 0xB8, 0x00, 0x34, 0xEF}, 7, 0, false, MSTOP_POWEROFF, 0, ""},
    /* jmp $ */
    {"insn-limit", {0xEB, 0xFE}, 2, 100000, false, MSTOP_LIMIT, HVEMU_EXIT_LIMIT, ""},
    /* cli; hlt */
    {"deadlock", {0xFA, 0xF4}, 2, 0, false, MSTOP_DEADLOCK, HVEMU_EXIT_DEADLOCK, ""},
    /* ud2 with an IDT limit of 0: #UD -> #GP -> #DF -> shutdown */
    {"triple-fault", {0x0F, 0x0B}, 2, 0, true, MSTOP_SHUTDOWN, HVEMU_EXIT_SHUTDOWN, ""},
    /* mov al,0xFE; out 0x64,al: i8042 pulses the reset line */
    {"kbc-reset", {0xB0, 0xFE, 0xE6, 0x64}, 4, 0, false, MSTOP_RESET, HVEMU_EXIT_RESET, ""},
};

Test(machine, stop_reasons_and_statuses)
{
    for (size_t i = 0; i < ARRAY_SIZE(stop_cases); i++) {
        const struct stop_case *c = &stop_cases[i];
        struct machine m;
        struct capture cap = {0};
        boot(&m, &cap, c->code, c->len, c->max_insns);
        if (c->empty_idt)
            cpu_set_dtr(m.vcpu[0], true, &(struct dtr){0, 0});
        int status = machine_run(&m);
        cr_expect_eq(m.stop, c->stop, "%s: stop %s", c->name, machine_stop_name(m.stop));
        cr_expect_eq(status, c->status, "%s: status %d", c->name, status);
        cr_expect_str_eq(cap.buf, c->output, "%s: output '%s'", c->name, cap.buf);
        if (c->max_insns)
            cr_expect_eq(m.total_insns, c->max_insns, "%s: ran %llu", c->name,
                         (unsigned long long)m.total_insns);
        machine_destroy(&m);
    }
}

Test(machine, two_machines_in_one_process)
{
    /* Each prints its own letter and exits with its own code; interleaving their creation and
     * runs shows no state is shared. */
    static const uint8_t a[] = {0xB0, 'a', 0xBA, 0xF8, 0x03, 0xEE, 0xB0, 0x05, 0xE6, 0xF4};
    static const uint8_t b[] = {0xB0, 'b', 0xBA, 0xF8, 0x03, 0xEE, 0xB0, 0x09, 0xE6, 0xF4};
    struct machine *ma = calloc(1, sizeof(*ma)), *mb = calloc(1, sizeof(*mb));
    struct capture ca = {0}, cb = {0};
    boot(ma, &ca, a, sizeof(a), 0);
    boot(mb, &cb, b, sizeof(b), 0);
    cr_expect_eq(machine_run(mb), (9 << 1) | 1);
    cr_expect_eq(machine_run(ma), (5 << 1) | 1);
    cr_expect_str_eq(ca.buf, "a");
    cr_expect_str_eq(cb.buf, "b");
    machine_destroy(ma);
    machine_destroy(mb);
    free(ma);
    free(mb);
}

Test(machine, runs_are_deterministic)
{
    /* rdtsc; out 0xf4 with the low byte of the TSC: identical in every run. */
    static const uint8_t code[] = {0x66, 0x90, 0x0F, 0x31, 0xE6, 0xF4};
    int first = -1;
    uint64_t insns = 0;
    for (int run = 0; run < 3; run++) {
        struct machine m;
        struct capture cap = {0};
        boot(&m, &cap, code, sizeof(code), 0);
        int status = machine_run(&m);
        if (run == 0) {
            first = status;
            insns = m.total_insns;
        }
        cr_expect_eq(status, first);
        cr_expect_eq(m.total_insns, insns);
        machine_destroy(&m);
    }
}

Test(machine, virtual_time_follows_instructions)
{
    struct machine m;
    struct capture cap = {0};
    static const uint8_t spin[] = {0xEB, 0xFE};
    boot(&m, &cap, spin, sizeof(spin), 1000000);
    machine_run(&m);
    cr_expect_eq(vclock_now(&m.clock), 1000000 * VCLOCK_NS_PER_INSN);
    machine_destroy(&m);
}

Test(machine, bad_configuration_is_refused)
{
    struct machine m;
    char err[256];
    struct machine_config cfg = {.ram_size = 16ull << 20, .smp = 0};
    cr_expect_neq(machine_create(&m, &cfg, err, sizeof(err)), 0);
    cr_expect(strstr(err, "smp") != NULL, "%s", err);
    cfg.smp = 1;
    cfg.hv_spec = "bogus-flag";
    cr_expect_neq(machine_create(&m, &cfg, err, sizeof(err)), 0);
}

Test(machine, tsc_follows_virtual_time_across_halts)
{
    /* PIT channel 0 one-shot of 1 ms through the PIC; rdtsc; sti; hlt; rdtsc. Virtual time
     * jumps over the halt, and the TSC must jump with it: the guest exits through the debug
     * port with (tsc delta >> 16), 15 for 1 ms at 1 GHz. */
    static const uint8_t code[] = {
        0xB0, 0x11, 0xE6, 0x20, 0xB0, 0x20, 0xE6, 0x21, /* ICW1, ICW2: vectors 0x20.. */
        0xB0, 0x04, 0xE6, 0x21, 0xB0, 0x01, 0xE6, 0x21, /* ICW3, ICW4 */
        0xB0, 0xFE, 0xE6, 0x21,                         /* unmask IRQ0 only */
        0x31, 0xC0, 0x8E, 0xD8,                         /* xor ax,ax; mov ds,ax */
        0xC7, 0x06, 0x80, 0x00, 0x43, 0x00,             /* IVT[0x20] = F000:0043 */
        0xC7, 0x06, 0x82, 0x00, 0x00, 0xF0,
        0xB0, 0x30, 0xE6, 0x43,                         /* PIT ch0 mode 0, lo/hi */
        0xB0, 0xA9, 0xE6, 0x40, 0xB0, 0x04, 0xE6, 0x40, /* count 1193: 1 ms */
        0x0F, 0x31, 0x66, 0x89, 0xC3,                   /* rdtsc; mov ebx,eax */
        0xFB, 0xF4,                                     /* sti; hlt */
        0x0F, 0x31, 0x66, 0x29, 0xD8,                   /* rdtsc; sub eax,ebx */
        0x66, 0xC1, 0xE8, 0x10, 0xE6, 0xF4, 0xF4,       /* shr eax,16; out 0xf4,al; hlt */
        0xB0, 0x20, 0xE6, 0x20, 0xCF,                   /* 0x43: EOI; iret */
    };
    cr_assert_eq(sizeof(code), 0x48);
    struct machine m;
    struct capture cap = {0};
    boot_at(&m, &cap, code, sizeof(code), 10000000, true);
    int status = machine_run(&m);
    cr_expect_eq(m.stop, MSTOP_DEBUG_EXIT, "stop: %s", machine_stop_name(m.stop));
    cr_expect_eq(status, (15 << 1) | 1, "status %d: the TSC did not follow the halt", status);
    machine_destroy(&m);
}
