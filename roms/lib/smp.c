/* Starting application processors in 64-bit guests: copies and fills the trampoline of
 * ap_tramp.S; the caller sends INIT-SIPI-SIPI (its own way: xAPIC, x2APIC, timing), e.g. with
 * lapic_icr_send. */
#include "guest.h"

extern const char ap_tramp_start[], ap_tramp_end[], ap_tramp_64[];
extern const char ap_tramp_gdt[], ap_tramp_idt[], ap_tramp_cr3[], ap_tramp_efer[], ap_tramp_far[];
extern const char ap_tramp_stack[], ap_tramp_entry[];

static void put(uint32_t page, const char *field, const void *v, size_t n)
{
    memcpy((void *)(uintptr_t)(page + (uint32_t)(field - ap_tramp_start)), v, n);
}

uint8_t smp_prepare_ap(uint32_t page, void (*entry)(void), void *stack_top)
{
    memcpy((void *)(uintptr_t)page, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr, idtr;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
    uint32_t gdt_base = (uint32_t)gdtr.base, cr3 = (uint32_t)read_cr3();
    uint32_t efer = (uint32_t)(rdmsr(0xC0000080) & ((1u << 8) | (1u << 11)));
    uint32_t far_off = page + (uint32_t)(ap_tramp_64 - ap_tramp_start);
    uint64_t stack = (uint64_t)(uintptr_t)stack_top, ent = (uint64_t)(uintptr_t)entry;
    put(page, ap_tramp_gdt, &gdtr.limit, 2);
    put(page, ap_tramp_gdt + 2, &gdt_base, 4);
    put(page, ap_tramp_idt, &idtr, 10);
    put(page, ap_tramp_cr3, &cr3, 4);
    put(page, ap_tramp_efer, &efer, 4);
    put(page, ap_tramp_far, &far_off, 4);
    put(page, ap_tramp_stack, &stack, 8);
    put(page, ap_tramp_entry, &ent, 8);
    return (uint8_t)(page >> 12);
}

void lapic_icr_send(uint32_t dest, uint32_t low)
{
    volatile uint32_t *icr_lo = (volatile uint32_t *)(uintptr_t)0xFEE00300u;
    volatile uint32_t *icr_hi = (volatile uint32_t *)(uintptr_t)0xFEE00310u;
    *icr_hi = dest << 24;
    *icr_lo = low;
    for (unsigned i = 0; i < 100000 && (*icr_lo & (1u << 12)); i++) /* delivery status */
        __asm__ volatile("pause");
}
