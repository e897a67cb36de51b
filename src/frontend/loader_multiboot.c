/* Multiboot v1 (Multiboot Specification 0.6.96): header search, ELF or a.out-kludge loading, the
 * information structure (memory sizes, e820-style map, command line, modules, loader name). */
#include "frontend/loader_priv.h"

#include <string.h>

#include "mmu/physmem.h"

#define MB_HEADER_MAGIC     0x1BADB002u
#define MB_BOOTLOADER_MAGIC 0x2BADB002u
#define MB_SEARCH_LEN       8192
/* Header flags: 0 page-align modules, 1 memory info, 2 video mode (optional to honour),
 * 16 the address fields are valid. Other bits in 0-15 are requirements we cannot meet. */
#define MBH_KNOWN_REQUIRED 0x0007u
#define MBH_AOUT_KLUDGE    (1u << 16)

/* Info flags. */
#define MBI_MEM     (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS    (1u << 3)
#define MBI_MMAP    (1u << 6)
#define MBI_LOADER  (1u << 9)

/* Offsets inside the info area at LOADER_MBI. */
#define MBI_OFF_MMAP   0x080
#define MBI_OFF_MODS   0x200
#define MBI_OFF_NAME   0x300
#define MBI_OFF_MODSTR 0x320

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

long loader_find_multiboot(const uint8_t *img, size_t len)
{
    size_t lim = len < MB_SEARCH_LEN ? len : MB_SEARCH_LEN;
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        uint32_t magic = rd32(img + off), flags = rd32(img + off + 4), sum = rd32(img + off + 8);
        if (magic == MB_HEADER_MAGIC && (uint32_t)(magic + flags + sum) == 0)
            return (long)off;
    }
    return -1;
}

/* a.out kludge: the header's own address fields say where the file goes. */
static int load_aout(struct load_ctx *c, size_t off)
{
    if (off + 32 > c->len)
        return loader_fail(c, "truncated Multiboot header: address fields missing");
    const uint8_t *h = c->img + off;
    uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16), load_end = rd32(h + 20);
    uint32_t bss_end = rd32(h + 24), entry = rd32(h + 28);
    if (header_addr < load_addr || header_addr - load_addr > off)
        return loader_fail(c, "bad Multiboot address fields: header_addr 0x%x, load_addr 0x%x",
                           header_addr, load_addr);
    size_t file_off = off - (header_addr - load_addr);
    uint64_t load_len = load_end ? (uint64_t)load_end - load_addr : c->len - file_off;
    if (load_end && load_end < load_addr)
        return loader_fail(c, "bad Multiboot address fields: load_end_addr 0x%x below load_addr 0x%x",
                           load_end, load_addr);
    if (load_len > c->len - file_off)
        return loader_fail(c, "truncated Multiboot image: %llu bytes to load from offset 0x%zx, file has %zu",
                           (unsigned long long)load_len, file_off, c->len);
    uint64_t end = (uint64_t)load_addr + load_len;
    if (bss_end && bss_end < end)
        return loader_fail(c, "bad Multiboot address fields: bss_end_addr 0x%x below the load end 0x%llx",
                           bss_end, (unsigned long long)end);
    uint64_t bss_len = bss_end ? bss_end - end : 0;
    if (loader_hits_area(load_addr, load_len + bss_len))
        return loader_fail(c, "Multiboot image 0x%x-0x%llx overlaps hvemu's boot area 0x%llx-0x%llx",
                           load_addr, (unsigned long long)(end + bss_len),
                           (unsigned long long)LOADER_AREA_START, (unsigned long long)LOADER_AREA_END);
    if (loader_copy(c, load_addr, c->img + file_off, load_len, bss_len))
        return loader_fail(c, "Multiboot image 0x%x-0x%llx lies outside guest RAM (%llu MiB)", load_addr,
                           (unsigned long long)(end + bss_len), (unsigned long long)(c->pm->ram_size >> 20));
    if (entry < load_addr || entry >= end + bss_len)
        return loader_fail(c, "Multiboot entry point 0x%x is outside the image", entry);
    c->out->rip = entry;
    c->out->image_start = load_addr;
    c->out->image_end = end + bss_len;
    c->out->kind = IMAGE_MULTIBOOT;
    c->out->mode = BOOT_PROT32;
    return 0;
}

static int build_info(struct load_ctx *c)
{
    uint8_t mbi[LOADER_MBI_END - LOADER_MBI];
    memset(mbi, 0, sizeof(mbi));
    uint32_t flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER;
    const struct physmem *pm = c->pm;

    /* mem_lower: KiB of conventional memory (to the EBDA); mem_upper: KiB from 1 MiB to the
     * first hole. */
    wr32(mbi + 4, 0x9FC00 / 1024);
    wr32(mbi + 8, (uint32_t)((pm->low_size - 0x100000) / 1024));

    struct e820_entry map[LOADER_E820_MAX];
    unsigned n = loader_e820(pm, c->opts, map, LOADER_E820_MAX);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = mbi + MBI_OFF_MMAP + 24 * i;
        wr32(e, 20); /* size of the rest of the entry */
        wr64(e + 4, map[i].addr);
        wr64(e + 12, map[i].size);
        wr32(e + 20, map[i].type);
    }
    wr32(mbi + 44, 24 * n);
    wr32(mbi + 48, (uint32_t)(LOADER_MBI + MBI_OFF_MMAP));

    if (loader_put_cmdline(c, LOADER_CMDLINE_MAX))
        return -1;
    wr32(mbi + 16, (uint32_t)LOADER_CMDLINE);

    memcpy(mbi + MBI_OFF_NAME, "hvemu", 6);
    wr32(mbi + 64, (uint32_t)(LOADER_MBI + MBI_OFF_NAME));

    if (c->opts->initrd_len) {
        uint64_t len = c->opts->initrd_len;
        gpa_t at = loader_place_high(c, len, c->out->image_end, PHYS_LOWMEM_END);
        if (!at || loader_copy(c, at, c->opts->initrd, len, 0))
            return loader_fail(c, "module (%llu bytes) does not fit in guest RAM above the kernel",
                               (unsigned long long)len);
        flags |= MBI_MODS;
        uint8_t *m = mbi + MBI_OFF_MODS;
        wr32(m, (uint32_t)at);
        wr32(m + 4, (uint32_t)(at + len));
        memcpy(mbi + MBI_OFF_MODSTR, "initrd", 7);
        wr32(m + 8, (uint32_t)(LOADER_MBI + MBI_OFF_MODSTR));
        wr32(mbi + 20, 1);
        wr32(mbi + 24, (uint32_t)(LOADER_MBI + MBI_OFF_MODS));
        c->out->initrd_start = at;
        c->out->initrd_size = len;
    }
    wr32(mbi, flags);
    if (physmem_load(c->pm, LOADER_MBI, mbi, sizeof(mbi)))
        return loader_fail(c, "guest RAM has no room for the Multiboot information");
    return 0;
}

int loader_multiboot(struct load_ctx *c, size_t off)
{
    uint32_t flags = rd32(c->img + off + 4);
    if (flags & 0xFFFFu & ~MBH_KNOWN_REQUIRED)
        return loader_fail(c, "Multiboot header requires features hvemu does not provide (flags 0x%x)",
                           flags);
    int rc;
    if (flags & MBH_AOUT_KLUDGE)
        rc = load_aout(c, off);
    else if (c->len >= 4 && c->img[0] == 0x7F && c->img[1] == 'E' && c->img[2] == 'L' && c->img[3] == 'F')
        rc = loader_elf(c, true);
    else
        return loader_fail(c, "Multiboot image is neither ELF nor has address fields (flag 16)");
    if (rc || build_info(c) || loader_setup_gdt(c, false))
        return -1;
    c->out->rax = MB_BOOTLOADER_MAGIC;
    c->out->rbx = LOADER_MBI;
    return 0;
}
