/* The 64-bit IDT, the C side of the exception stubs and try_call recovery. */
#include "guest.h"

extern const char isr_stubs[];
extern char try_resume[];
extern uint64_t try_saved_rsp;

struct idt_gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};

static struct idt_gate idt[256] __attribute__((aligned(16)));

/* 64-bit TSS (SDM Vol 3 8.7): only RSP0 matters, for traps taken at CPL 3. */
struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
};
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t ring0_stack[16384] __attribute__((aligned(16)));
extern uint64_t guest_gdt[];
#define GDT_TSS_SEL 0x30
static trap_handler_fn handlers[256];
volatile struct trap_info trap_last;

static const char *const vector_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP", "#SS", "#GP",
    "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void runtime_init(void);

void runtime_init(void)
{
    serial_init();
    for (unsigned v = 0; v < 256; v++) {
        uint64_t a = (uint64_t)(uintptr_t)(isr_stubs + 16 * v);
        /* Interrupt gates (type 0xE), DPL 3 for INT3/INTO so that ring-3 code can raise them. */
        uint8_t dpl = (v == 3 || v == 4 || v == TRAP_USER_RETURN) ? 3 : 0;
        idt[v] = (struct idt_gate){(uint16_t)a, 0x08, 0, (uint8_t)(0x8E | (dpl << 5)),
                                   (uint16_t)(a >> 16), (uint32_t)(a >> 32), 0};
    }
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {
        sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(idtr));

    tss.rsp[0] = (uint64_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 port I/O faults */
    uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;
    guest_gdt[GDT_TSS_SEL / 8] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ull << 40 |
                                 (limit >> 16 & 0xF) << 48 | (base >> 24 & 0xFF) << 56;
    guest_gdt[GDT_TSS_SEL / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" ::"r"(GDT_TSS_SEL));
}

void trap_set_handler(unsigned vector, trap_handler_fn fn)
{
    if (vector < 256)
        handlers[vector] = fn;
}

uint64_t *guest_pde(uint64_t va)
{
    return va < (4ull << 30) ? &guest_pd[va >> 21] : NULL;
}

void trap_dispatch(struct trap_frame *f);

void trap_dispatch(struct trap_frame *f)
{
    uint64_t v = f->vector & 0xFF;
    if (v == TRAP_USER_RETURN && (f->cs & 3) == 3 && try_saved_rsp) {
        f->rax = 0;
        f->rip = (uint64_t)(uintptr_t)try_resume;
        f->rsp = try_saved_rsp;
        f->cs = 0x08;
        f->ss = 0x10;
        return;
    }
    trap_last.vector = v;
    trap_last.error_code = f->error_code;
    trap_last.rip = f->rip;
    trap_last.cr2 = v == 14 ? read_cr2() : 0;
    if (handlers[v] && handlers[v](f)) {
        trap_last.count++;
        return;
    }
    if (try_saved_rsp) {
        trap_last.count++;
        f->rax = TRAP_CAUGHT | v;
        f->rip = (uint64_t)(uintptr_t)try_resume;
        f->rsp = try_saved_rsp;
        f->cs = 0x08;
        f->ss = 0x10;
        return;
    }
    printf("FATAL: unexpected exception %s (vector %llu) error 0x%llx at rip 0x%llx cr2 0x%llx\n",
           v < 32 && vector_names[v] ? vector_names[v] : "interrupt", (unsigned long long)v,
           (unsigned long long)f->error_code, (unsigned long long)f->rip,
           (unsigned long long)trap_last.cr2);
    debug_exit(GUEST_EXIT_FATAL);
}
