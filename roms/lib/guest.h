/* The guest library every bundled guest links with: port I/O, COM1 serial and printf, CPUID/MSR/TSC,
 * exception handling (per-vector handlers and try_call recovery), named test checks, and exits.
 *
 * Exits and the hvemu exit status they produce:
 *   poweroff()          ACPI S5 through PM1a_CNT (port 0x604)         -> status 0
 *   debug_exit(v)       byte v to the debug-exit port 0xF4            -> status (v << 1) | 1
 *   return r from main  r == 0: poweroff(); otherwise debug_exit(r)
 *   test_finish()       all checks passed: debug_exit(GUEST_EXIT_PASS)  -> status 1
 *                       some check failed: debug_exit(GUEST_EXIT_FAIL)  -> status 65
 *   unexpected trap     prints "FATAL: ..." then debug_exit(GUEST_EXIT_FATAL) -> status 67 */
#ifndef HVEMU_GUEST_H
#define HVEMU_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_EXIT_PASS  0x00
#define GUEST_EXIT_FAIL  0x20
#define GUEST_EXIT_FATAL 0x21

#define PORT_COM1       0x3F8
#define PORT_DEBUG_EXIT 0xF4
#define PORT_PM1A_CNT   0x604
#define PM1_SLP_TYP_S5  (5u << 10)
#define PM1_SLP_EN      (1u << 13)

/* Multiboot v1 information structure (the fields this library reads). */
struct mb_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
};
struct mb_module {
    uint32_t mod_start, mod_end, string, reserved;
};
struct __attribute__((packed)) mb_mmap_entry {
    uint32_t size; /* of the rest of the entry */
    uint64_t addr, len;
    uint32_t type;
};

extern uint32_t guest_mb_magic; /* EAX at entry: 0x2BADB002 from a Multiboot loader */
extern uint32_t guest_mb_info;  /* EBX at entry */
extern uint32_t guest_entry_cr0; /* CR0 at entry */
extern uint16_t guest_entry_cs, guest_entry_ds; /* selectors at the Linux 64-bit entry */
extern uint32_t guest_boot_params; /* RSI at the Linux 64-bit entry (bzImage boot), else 0 */
extern const char __image_start[], __image_end[]; /* the loaded image, bss included */
extern uint64_t guest_pml4[512], guest_pdpt[512], guest_pd[2048];

int main(uint32_t mb_info);

/* Port I/O. */
static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }

/* CPU. */
struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
/* Control registers are as wide as the mode (unsigned long): 64-bit here, 32-bit in lib32 guests. */
static inline uint64_t read_cr0(void) { unsigned long v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { unsigned long v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { unsigned long v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { unsigned long v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void invlpg(unsigned long va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }

/* rdmsr/wrmsr that report a #GP instead of dying: return true when the access succeeded. */
bool rdmsr_safe(uint32_t msr, uint64_t *val);
bool wrmsr_safe(uint32_t msr, uint64_t val);

/* Exceptions and interrupts. The frame is what start.S's stubs push, lowest address first. */
#if defined(__x86_64__)
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};
#else
#include "guest32.h" /* the 32-bit frame, GDT/TSS helpers and V86 entry (roms/lib32) */
#endif
/* A handler returns true when it dealt with the trap (it may change the frame, e.g. rip). */
typedef bool (*trap_handler_fn)(struct trap_frame *f);
void trap_set_handler(unsigned vector, trap_handler_fn fn);

/* Details of the last trap caught by try_call (or by any handler). */
struct trap_info {
    uint64_t vector, error_code, rip, cr2;
    unsigned count; /* traps caught since boot */
};
extern volatile struct trap_info trap_last;

/* Runs fn(arg); when fn raises an exception that no handler claims, execution resumes here and
 * try_call returns TRAP_CAUGHT | vector (so a #DE is non-zero too); 0 when fn returned normally. */
#define TRAP_CAUGHT 0x100
long try_call(void (*fn)(void *), void *arg);

/* Runs fn(arg) at CPL 3 on a separate stack (the identity map is user-accessible); returns
 * like try_call. fn comes back through INT TRAP_USER_RETURN, a DPL-3 gate. */
#define TRAP_USER_RETURN 0x81
long try_call_user(void (*fn)(void *), void *arg);

#if defined(__x86_64__)
/* Page-directory entry covering va (2 MiB page) in the identity map, to unmap or remap. */
uint64_t *guest_pde(uint64_t va);

/* Application processors: copy the start-up trampoline (ap_tramp.S) to the 4 KiB page at page
 * (below 1 MiB) so that an AP sent a SIPI with the returned vector enters entry() in long mode on
 * stack_top, with this VP's GDT, IDT and page tables. The caller sends INIT-SIPI-SIPI. */
uint8_t smp_prepare_ap(uint32_t page, void (*entry)(void), void *stack_top);
/* xAPIC interrupt command (ICR high = dest << 24, then low), waiting for delivery status. */
void lapic_icr_send(uint32_t dest, uint32_t low);
#endif

/* Serial console on COM1 and formatted output: %s %c %d %i %u %x %X %p %%, with l/ll length,
 * width and zero padding. */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The Multiboot command line ("" when there is none), and whether it holds word as a
 * space-separated word. */
const char *guest_cmdline(uint32_t mb_info);
bool cmdline_has_word(const char *cmdline, const char *word);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

/* Named checks: each prints "PASS: name" or "FAIL: name (detail)". */
bool check(const char *name, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The base name keeps build paths out of the images (and the images reproducible). */
#ifdef __FILE_NAME__
#define GUEST_FILE __FILE_NAME__
#else
#define GUEST_FILE __FILE__
#endif
#define CHECK(name, cond) check((name), (cond), "%s at %s:%d", #cond, GUEST_FILE, __LINE__)
#define CHECK_EQ(name, got, want)                                                              \
    do {                                                                                       \
        unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want);    \
        check((name), g_ == w_, "got 0x%llx, want 0x%llx at %s:%d", g_, w_, GUEST_FILE, __LINE__); \
    } while (0)
unsigned test_passed(void);
unsigned test_failed(void);
/* Prints "SUMMARY: N passed, M failed" and leaves through debug_exit (see the table above). */
__attribute__((noreturn)) void test_finish(void);

__attribute__((noreturn)) void poweroff(void);
__attribute__((noreturn)) void debug_exit(uint8_t value);
/* main's return value: 0 powers off, anything else leaves through debug_exit. */
__attribute__((noreturn)) void guest_exit(int status);

#endif
