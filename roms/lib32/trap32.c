/* The 32-bit IDT, TSS and I/O bitmap, the C side of the exception stubs and try_call recovery,
 * for guests that run in 32-bit protected mode (roms/lib32). */
#include "guest.h"

extern const char isr_stubs[];
extern uint32_t try_saved_esp;
extern struct v86_regs *v86_exit_regs;
__attribute__((noreturn)) void try_longjmp(long result);

uint64_t guest_idt[256] __attribute__((aligned(16)));
struct guest_tss_area guest_tss __attribute__((aligned(16)));
static uint8_t ring0_stack[16384] __attribute__((aligned(16)));
static trap_handler_fn handlers[256];
volatile struct trap_info trap_last;

static const char *const vector_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP", "#SS", "#GP",
    "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void runtime_init(void);

void idt_restore(unsigned v)
{
    if (v >= 256)
        return;
    /* Interrupt gates; DPL 3 for INT3/INTO and the return gate so that ring 3 (and V86 at
     * IOPL 3) can raise them. */
    unsigned dpl = (v == 3 || v == 4 || v == TRAP_USER_RETURN) ? 3 : 0;
    guest_idt[v] = gate_desc(SEL_CODE32, (uint32_t)(uintptr_t)(isr_stubs + 16 * v), 0xE, dpl, 0);
}

void iomap_allow(uint16_t port, unsigned n, bool allow)
{
    for (unsigned p = port; p < port + n && p < 65536; p++) {
        if (allow)
            guest_tss.iomap[p / 8] &= (uint8_t)~(1u << (p % 8));
        else
            guest_tss.iomap[p / 8] |= (uint8_t)(1u << (p % 8));
    }
}

void runtime_init(void)
{
    serial_init();
    for (unsigned v = 0; v < 256; v++)
        idt_restore(v);
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr = {
        sizeof(guest_idt) - 1, (uint32_t)(uintptr_t)guest_idt};
    __asm__ volatile("lidt %0" ::"m"(idtr));

    memset(&guest_tss, 0, sizeof(guest_tss));
    guest_tss.tss.esp0 = (uint32_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    guest_tss.tss.ss0 = SEL_DATA32;
    guest_tss.tss.iomap_base = (uint16_t)offsetof(struct guest_tss_area, iomap);
    memset(guest_tss.iomap, 0xFF, sizeof(guest_tss.iomap));
    guest_tss.iomap_end = 0xFF;
    gdt_set(SEL_TSS / 8, gdt_desc((uint32_t)(uintptr_t)&guest_tss, sizeof(guest_tss) - 1, 0x89, 0));
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
}

void trap_set_handler(unsigned vector, trap_handler_fn fn)
{
    if (vector < 256)
        handlers[vector] = fn;
}

void trap_dispatch(struct trap_frame *f);

static bool from_v86(const struct trap_frame *f)
{
    return f->eflags & (1u << 17);
}

static __attribute__((noreturn)) void resume(struct trap_frame *f, long result)
{
    if (from_v86(f) && v86_exit_regs) {
        struct v86_regs *r = v86_exit_regs;
        *r = (struct v86_regs){f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp, f->eflags,
                               (uint16_t)f->cs, (uint16_t)f->eip, (uint16_t)f->ss, (uint16_t)f->esp,
                               (uint16_t)f->v86_ds, (uint16_t)f->v86_es, (uint16_t)f->v86_fs,
                               (uint16_t)f->v86_gs};
    }
    v86_exit_regs = NULL;
    try_longjmp(result);
}

void trap_dispatch(struct trap_frame *f)
{
    uint32_t v = f->vector & 0xFF;
    bool outer = (f->cs & 3) == 3 || from_v86(f);
    if (v == TRAP_USER_RETURN && outer && try_saved_esp)
        resume(f, 0);
    trap_last.vector = v;
    trap_last.error_code = f->error_code;
    trap_last.rip = f->eip;
    trap_last.cr2 = v == 14 ? read_cr2() : 0;
    if (handlers[v] && handlers[v](f)) {
        trap_last.count++;
        return;
    }
    if (try_saved_esp) {
        trap_last.count++;
        resume(f, TRAP_CAUGHT | (long)v);
    }
    printf("FATAL: unexpected exception %s (vector %u) error 0x%x at cs:eip 0x%x:0x%x eflags 0x%x cr2 0x%llx\n",
           v < 32 && vector_names[v] ? vector_names[v] : "interrupt", (unsigned)v,
           (unsigned)f->error_code, (unsigned)f->cs, (unsigned)f->eip, (unsigned)f->eflags,
           (unsigned long long)trap_last.cr2);
    debug_exit(GUEST_EXIT_FATAL);
}
