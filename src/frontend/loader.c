/* Image detection and the boot pieces shared by every format: GDT, identity page tables, the e820
 * map, placement of initrds and modules, and bounds-checked copies into guest RAM. */
#include "frontend/loader_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mmu/physmem.h"

int loader_fail(struct load_ctx *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

bool loader_hits_area(gpa_t gpa, uint64_t len)
{
    return gpa < LOADER_AREA_END && gpa + len > LOADER_AREA_START;
}

int loader_copy(struct load_ctx *c, gpa_t gpa, const uint8_t *src, uint64_t len, uint64_t zero_len)
{
    uint64_t total = len + zero_len;
    if (total < len || gpa + total < gpa)
        return -1;
    if (total == 0)
        return 0;
    uint8_t *dst = physmem_ram_ptr(c->pm, gpa, total);
    if (!dst)
        return -1;
    memcpy(dst, src, len);
    memset(dst + len, 0, zero_len);
    return 0;
}

/* Flat descriptors (SDM Vol 3 3.4.5), with the accessed bit already set so that loading them
 * does not write the GDT. */
#define DESC_CODE32 0x00CF9B000000FFFFull
#define DESC_CODE64 0x00AF9B000000FFFFull
#define DESC_DATA   0x00CF93000000FFFFull

int loader_setup_gdt(struct load_ctx *c, bool long_mode)
{
    uint64_t gdt[4] = {0, 0, long_mode ? DESC_CODE64 : DESC_CODE32, DESC_DATA};
    if (physmem_load(c->pm, LOADER_GDT, gdt, sizeof(gdt)))
        return loader_fail(c, "guest RAM has no room for the boot GDT");
    c->out->gdt_base = LOADER_GDT;
    c->out->gdt_limit = sizeof(gdt) - 1;
    return 0;
}

int loader_setup_paging(struct load_ctx *c)
{
    /* PML4, PDPT and four page directories of 2 MiB pages: 0-4 GiB identity, P|RW(|PS). */
    static const uint64_t PTE_P_RW = 0x3, PDE_PS = 0x80;
    uint64_t pml4[512] = {0}, pdpt[512] = {0};
    pml4[0] = LOADER_PDPT | PTE_P_RW;
    for (unsigned i = 0; i < 4; i++)
        pdpt[i] = (LOADER_PD + i * PAGE_SIZE) | PTE_P_RW;
    if (physmem_load(c->pm, LOADER_PML4, pml4, sizeof(pml4)) ||
        physmem_load(c->pm, LOADER_PDPT, pdpt, sizeof(pdpt)))
        return loader_fail(c, "guest RAM has no room for the boot page tables");
    for (unsigned i = 0; i < 4; i++) {
        uint64_t pd[512];
        for (unsigned j = 0; j < 512; j++)
            pd[j] = (((uint64_t)i * 512 + j) << 21) | PDE_PS | PTE_P_RW;
        if (physmem_load(c->pm, LOADER_PD + i * PAGE_SIZE, pd, sizeof(pd)))
            return loader_fail(c, "guest RAM has no room for the boot page tables");
    }
    c->out->cr3 = LOADER_PML4;
    return 0;
}

gpa_t loader_place_high(const struct load_ctx *c, uint64_t len, gpa_t floor, gpa_t limit)
{
    uint64_t top = limit < c->pm->low_size ? limit : c->pm->low_size;
    const struct load_opts *o = c->opts;
    /* Stay below ACPI tables the machine put in low RAM. */
    if (o->acpi_tables && o->acpi_tables_len && o->acpi_tables >= floor && o->acpi_tables < top)
        top = o->acpi_tables;
    if (len > top)
        return 0;
    gpa_t addr = (top - len) & PAGE_MASK;
    floor = (floor + PAGE_SIZE - 1) & PAGE_MASK;
    return addr >= floor ? addr : 0;
}

int loader_put_cmdline(struct load_ctx *c, uint64_t max)
{
    const char *s = c->opts->cmdline ? c->opts->cmdline : "";
    size_t n = strlen(s) + 1;
    if (max > LOADER_CMDLINE_MAX)
        max = LOADER_CMDLINE_MAX;
    if (n > max)
        return loader_fail(c, "kernel command line is %zu bytes; at most %llu fit", n - 1,
                           (unsigned long long)(max - 1));
    if (physmem_load(c->pm, LOADER_CMDLINE, s, n))
        return loader_fail(c, "guest RAM has no room for the command line");
    return 0;
}

static void e820_add(struct e820_entry *map, unsigned *n, unsigned max, uint64_t addr, uint64_t end,
                     uint32_t type)
{
    if (end > addr && *n < max)
        map[(*n)++] = (struct e820_entry){addr, end - addr, type};
}

unsigned loader_e820(const struct physmem *pm, const struct load_opts *opts, struct e820_entry *map,
                     unsigned max)
{
    /* Conventional memory up to the EBDA; the EBDA, VGA window and BIOS area 0x9FC00-1 MiB
     * reserved (the machine keeps its ACPI tables in the BIOS area unless told otherwise);
     * RAM from 1 MiB to the PCI hole, the BIOS flash alias below 4 GiB, then RAM above 4 GiB. */
    static const uint64_t EBDA = 0x9FC00, MIB = 0x100000, FLASH = 0xFFFC0000ull;
    unsigned n = 0;
    uint64_t low = pm->low_size;
    e820_add(map, &n, max, 0, low < EBDA ? low : EBDA, E820_RAM);
    e820_add(map, &n, max, EBDA, MIB, E820_RESERVED);
    uint64_t at = opts ? opts->acpi_tables : 0, alen = opts ? opts->acpi_tables_len : 0;
    if (at >= MIB && alen && at < low && alen <= low - at) {
        e820_add(map, &n, max, MIB, at, E820_RAM);
        e820_add(map, &n, max, at, at + alen, E820_ACPI);
        e820_add(map, &n, max, at + alen, low, E820_RAM);
    } else {
        e820_add(map, &n, max, MIB, low, E820_RAM);
    }
    e820_add(map, &n, max, FLASH, PHYS_HIGHMEM_BASE, E820_RESERVED);
    e820_add(map, &n, max, PHYS_HIGHMEM_BASE, PHYS_HIGHMEM_BASE + (pm->ram_size - low), E820_RAM);
    return n;
}

static bool is_elf(const uint8_t *img, size_t len)
{
    return len >= 4 && img[0] == 0x7F && img[1] == 'E' && img[2] == 'L' && img[3] == 'F';
}

static bool looks_like_bzimage(const uint8_t *img, size_t len)
{
    /* "HdrS" at 0x202, or the beginnings of one: the boot sector's 0xAA55 or an EFI stub's "MZ",
     * so that a truncated bzImage is reported as such. */
    if (len >= 0x206 && memcmp(img + 0x202, "HdrS", 4) == 0)
        return true;
    if (len >= 2 && img[0] == 'M' && img[1] == 'Z')
        return true;
    return len >= 0x200 && img[0x1FE] == 0x55 && img[0x1FF] == 0xAA;
}

int load_image(struct physmem *pm, const uint8_t *img, size_t len, const struct load_opts *opts,
               struct boot_entry *out, char *err, size_t errlen)
{
    static const struct load_opts no_opts;
    struct load_ctx c = {pm, img, len, opts ? opts : &no_opts, out, err, errlen};
    if (err && errlen)
        err[0] = '\0';
    memset(out, 0, sizeof(*out));
    out->rsp = LOADER_STACK_TOP;
    if (!img || len == 0)
        return loader_fail(&c, "image is empty");
    if (pm->low_size < LOADER_MIN_RAM)
        return loader_fail(&c, "guest RAM (%llu KiB) is too small to boot an image: 2 MiB needed",
                           (unsigned long long)(pm->ram_size >> 10));
    if (c.opts->initrd_len && !c.opts->initrd)
        return loader_fail(&c, "initrd length given without data");

    /* A Linux setup header wins over a Multiboot header further in, as in QEMU's -kernel. */
    if (len >= 0x206 && memcmp(img + 0x202, "HdrS", 4) == 0)
        return loader_linux(&c);
    long mb = loader_find_multiboot(img, len);
    if (mb >= 0)
        return loader_multiboot(&c, (size_t)mb);
    if (is_elf(img, len))
        return loader_elf(&c, false);
    if (looks_like_bzimage(img, len))
        return loader_linux(&c);
    return loader_fail(&c, "not a Multiboot, ELF or Linux bzImage image (%zu bytes, no known header)",
                       len);
}
