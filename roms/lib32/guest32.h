/* The 32-bit protected-mode side of the guest library (roms/lib32), included by guest.h when a
 * guest is built with -m32: the trap frame, the GDT and TSS the library runs on, and helpers to
 * add descriptors and to run code at CPL 3 or in virtual-8086 mode. See roms/lib32/README. */
#ifndef HVEMU_GUEST32_H
#define HVEMU_GUEST32_H

#include <stdint.h>

/* What the stubs in start32.S push, lowest address first: PUSHAD, data segments, the vector and
 * error code (0 when the CPU pushes none), then the CPU's frame. esp/ss are valid only when the
 * trap came from CPL 3 or V86 (cs & 3, or eflags.VM); v86_* only from V86. */
struct trap_frame {
    uint32_t edi, esi, ebp, esp_pushad, ebx, edx, ecx, eax;
    uint32_t gs, fs, es, ds;
    uint32_t vector, error_code;
    uint32_t eip, cs, eflags, esp, ss;
    uint32_t v86_es, v86_ds, v86_fs, v86_gs;
};

/* GDT selectors of the library. Entries GDT_FREE_FIRST..GDT_ENTRIES-1 are free for tests. */
#define SEL_CODE32  0x08 /* 32-bit code, DPL 0 */
#define SEL_DATA32  0x10 /* data, DPL 0 */
#define SEL_UCODE32 0x1B /* 32-bit code, DPL 3 */
#define SEL_UDATA32 0x23 /* data, DPL 3 */
#define SEL_TSS     0x28 /* the library's 32-bit TSS */
#define GDT_FREE_FIRST 6
#define GDT_ENTRIES 48
extern uint64_t guest_gdt[GDT_ENTRIES];

/* A segment descriptor: access is byte 5 (P, DPL, S, type), flags the high nibble of byte 6
 * (G, D/B, L, AVL): e.g. gdt_desc(0, 0xFFFFF, 0x9A, 0xC) is a flat 32-bit ring-0 code segment. */
static inline uint64_t gdt_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xFFFFull) | (uint64_t)(base & 0xFFFFFF) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xF) << 48 | (uint64_t)(flags & 0xF) << 52 |
           (uint64_t)(base >> 24) << 56;
}
/* A call/interrupt/trap/task gate: type 0xC call32, 0xE int32, 0xF trap32, 5 task, 4 call16. */
static inline uint64_t gate_desc(uint16_t sel, uint32_t off, uint8_t type, unsigned dpl, unsigned params)
{
    return (off & 0xFFFFull) | (uint64_t)sel << 16 | (uint64_t)(params & 31) << 32 |
           (uint64_t)(0x80 | (dpl & 3) << 5 | (type & 0xF)) << 40 | (uint64_t)(off >> 16) << 48;
}
static inline void gdt_set(unsigned index, uint64_t desc)
{
    if (index < GDT_ENTRIES)
        guest_gdt[index] = desc;
}

/* The IDT (256 32-bit gates): tests may replace an entry, e.g. with a task gate. */
extern uint64_t guest_idt[256];
/* Re-install the library's own interrupt gate for vector (after a test replaced it). */
void idt_restore(unsigned vector);

/* 32-bit TSS (SDM Vol 3 7.2.1) followed by an I/O permission bitmap covering all 65536 ports
 * (all ones = every port denied at CPL > IOPL and in V86 mode) and the 0xFF terminator. */
struct __attribute__((packed)) tss32 {
    uint16_t link, r0;
    uint32_t esp0; uint16_t ss0, r1;
    uint32_t esp1; uint16_t ss1, r2;
    uint32_t esp2; uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
    uint16_t trap, iomap_base;
};
struct __attribute__((packed)) guest_tss_area {
    struct tss32 tss;
    uint8_t iomap[8192];
    uint8_t iomap_end; /* 0xFF */
};
extern struct guest_tss_area guest_tss;
/* Allow (true) or deny (false) port I/O to [port, port+n) at CPL > IOPL and in V86 mode. */
void iomap_allow(uint16_t port, unsigned n, bool allow);

/* Run 16-bit code in virtual-8086 mode: the library IRETs to cs:ip with EFLAGS = eflags | VM
 * (put the IOPL you want in eflags), the given stack and data segments. Returns 0 when the V86
 * code comes back with INT 0x81 (TRAP_USER_RETURN; possible only with IOPL 3), otherwise
 * TRAP_CAUGHT | vector of the first trap no handler claimed (e.g. #GP from CLI at IOPL 0), like
 * try_call; trap_last.rip is then the V86 IP. regs, if not NULL, receives the V86 registers at
 * that moment (eax..edi, eflags, cs, ip, ss, sp, ds, es, fs, gs). */
struct v86_regs {
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp;
    uint32_t eflags;
    uint16_t cs, ip, ss, sp, ds, es, fs, gs;
};
long try_call_v86(const struct v86_regs *entry, struct v86_regs *exit_regs);

#endif
