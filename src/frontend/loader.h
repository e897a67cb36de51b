/* Boot image loaders (Multiboot v1, Linux bzImage, plain ELF) and the initial VP state they
 * produce. Every image is hostile input: a bad one yields an error string, never a crash, and
 * nothing is written outside guest RAM.
 *
 * Guest-physical layout the loaders use (all below 1 MiB, outside any image):
 *   0x1000 GDT (LOADER_GDT), 0x6FF0 initial stack top, 0x7000 Linux zero page,
 *   0x8000 Multiboot info + memory map + module list + strings (up to 0x9000),
 *   0x9000 PML4, 0xA000 PDPT, 0xB000-0xEFFF four page directories (BOOT_LONG64),
 *   0x20000 kernel command line (up to LOADER_CMDLINE_MAX bytes),
 *   images at their link address (Multiboot/ELF) or 1 MiB (bzImage protected-mode part),
 *   initrd / Multiboot module 0 at the top of low RAM, page-aligned. */
#ifndef HVEMU_LOADER_H
#define HVEMU_LOADER_H

#include "types.h"

struct physmem;
struct vcpu;

#define LOADER_GDT          0x1000ull
#define LOADER_STACK_TOP    0x6FF0ull
#define LOADER_ZERO_PAGE    0x7000ull
#define LOADER_MBI          0x8000ull
#define LOADER_MBI_END      0x9000ull
#define LOADER_PML4         0x9000ull
#define LOADER_PDPT         0xA000ull
#define LOADER_PD           0xB000ull
#define LOADER_CMDLINE      0x20000ull
#define LOADER_CMDLINE_MAX  0x10000ull
#define LOADER_BZIMAGE_LOAD 0x100000ull

/* Selectors of the loader's GDT: the Linux boot protocol's __BOOT_CS/__BOOT_DS, also used for
 * Multiboot and plain ELF entries. GDT entry 2 is a 32-bit or a 64-bit code segment by mode. */
#define LOADER_CS 0x10
#define LOADER_DS 0x18

/* e820 memory types (ACPI spec "Address Range Types"). */
enum { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4 };
struct e820_entry {
    uint64_t addr, size;
    uint32_t type;
};
#define LOADER_E820_MAX 16

enum boot_mode {
    BOOT_RESET,  /* leave the VP at its power-on state: real mode, F000:FFF0 */
    BOOT_PROT32, /* flat 32-bit protected mode, paging off (Multiboot, ELF32, bzImage 32-bit entry) */
    BOOT_LONG64, /* 64-bit mode, first 4 GiB identity-mapped by the loader's tables (ELF64, bzImage) */
};

enum image_kind { IMAGE_MULTIBOOT, IMAGE_LINUX, IMAGE_ELF32, IMAGE_ELF64 };

/* Initial VP state. Registers not named here are zero; RFLAGS = 0x2 (IF=0). */
struct boot_entry {
    enum boot_mode mode;
    enum image_kind kind;
    uint64_t rip, rsp, rax, rbx, rsi;
    uint64_t cr3;      /* BOOT_LONG64 */
    uint64_t gdt_base; /* flat code at LOADER_CS, data at LOADER_DS */
    uint16_t gdt_limit;
    gpa_t image_start, image_end; /* guest-physical range the kernel image occupies */
    gpa_t initrd_start;           /* 0 when there is no initrd */
    uint64_t initrd_size;
};

struct load_opts {
    const char *cmdline;   /* NULL or "" for none */
    const uint8_t *initrd; /* Linux initrd, or Multiboot module 0; NULL for none */
    size_t initrd_len;
    uint64_t ram_size;     /* informational: the physmem's own size is what counts */
    gpa_t acpi_rsdp;       /* 0 if none (Linux boot_params.acpi_rsdp_addr, protocol 2.14+) */
    /* Where the machine put its ACPI tables if outside 0xE0000-0xFFFFF (always reserved):
     * the e820 map then marks that range ACPI reclaimable. 0 = none. */
    gpa_t acpi_tables;
    uint64_t acpi_tables_len;
};

/* Detects the image kind (a bzImage "HdrS" setup header first, as QEMU does; then a Multiboot
 * header in the first 8 KiB; then plain ELF), loads it into pm, and fills out. Returns 0, or -1
 * with one line in err (no trailing newline). */
int load_image(struct physmem *pm, const uint8_t *img, size_t len, const struct load_opts *opts,
               struct boot_entry *out, char *err, size_t errlen);

/* The guest's e820 map for pm's RAM layout; returns the number of entries (<= max). */
unsigned loader_e820(const struct physmem *pm, const struct load_opts *opts, struct e820_entry *map,
                     unsigned max);

/* Sets vp (freshly reset) to the entry state: segments with their hidden caches, control
 * registers, EFER, GDTR, RIP, RSP and the named GPRs. BOOT_RESET leaves vp untouched. */
void boot_apply(struct vcpu *vp, const struct boot_entry *e);

#endif
