/* Linux bzImage (Documentation/arch/x86/boot.rst): setup header checks, the protected-mode kernel
 * at 1 MiB, the zero page (struct boot_params) with e820 map, command line and initrd, entered
 * through the 64-bit boot protocol (startup_64 = load address + 0x200) or the 32-bit one. */
#include "frontend/loader_priv.h"

#include <string.h>

#include "mmu/physmem.h"

/* struct setup_header fields, as offsets in the image and in boot_params alike. */
#define HDR_SETUP_SECTS     0x1F1
#define HDR_SYSSIZE         0x1F4
#define HDR_VID_MODE        0x1FA
#define HDR_BOOT_FLAG       0x1FE
#define HDR_JUMP            0x200
#define HDR_HEADER          0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21C
#define HDR_HEAP_END_PTR    0x224
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22C
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
#define HDR_END_MAX         0x290 /* setup_header never extends past this in boot_params */

/* Other boot_params fields. */
#define BP_ACPI_RSDP_ADDR     0x070
#define BP_EXT_RAMDISK_IMAGE  0x0C0
#define BP_EXT_RAMDISK_SIZE   0x0C4
#define BP_EXT_CMD_LINE_PTR   0x0C8
#define BP_E820_ENTRIES       0x1E8
#define BP_E820_TABLE         0x2D0
#define BP_E820_MAX           128

#define LOADED_HIGH   0x01
#define CAN_USE_HEAP  0x80
#define XLF_KERNEL_64 0x01

#define MIN_PROTOCOL  0x206
#define ENTRY64_OFFSET 0x200

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

int loader_linux(struct load_ctx *c)
{
    const uint8_t *img = c->img;
    size_t len = c->len;
    if (len < HDR_INIT_SIZE + 4 || memcmp(img + HDR_HEADER, "HdrS", 4) != 0) {
        if (len >= HDR_HEADER + 4 && memcmp(img + HDR_HEADER, "HdrS", 4) != 0)
            return loader_fail(c, "not a bzImage: no \"HdrS\" setup header at 0x202");
        return loader_fail(c, "truncated bzImage: %zu bytes, too short for the setup header", len);
    }
    uint16_t version = rd16(img + HDR_VERSION);
    if (version < MIN_PROTOCOL)
        return loader_fail(c, "Linux boot protocol %u.%02u is too old (2.06 or newer needed)",
                           version >> 8, version & 0xFF);
    if (rd16(img + HDR_BOOT_FLAG) != 0xAA55)
        return loader_fail(c, "corrupt bzImage: boot flag is 0x%04x, not 0xAA55", rd16(img + HDR_BOOT_FLAG));
    uint8_t loadflags = img[HDR_LOADFLAGS];
    if (!(loadflags & LOADED_HIGH))
        return loader_fail(c, "not a bzImage: a zImage (loads below 1 MiB) is not supported");

    unsigned setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
    size_t setup_size = (size_t)(setup_sects + 1) * 512;
    uint64_t syssize = (uint64_t)rd32(img + HDR_SYSSIZE) * 16;
    if (setup_size >= len || syssize > len - setup_size)
        return loader_fail(c, "truncated bzImage: %zu bytes, the header says %llu", len,
                           (unsigned long long)(setup_size + syssize));
    size_t kernel_len = len - setup_size;

    /* The decompressor runs at 1 MiB and moves to pref_address, needing init_size there. */
    uint64_t pref = version >= 0x20A ? rd64(img + HDR_PREF_ADDRESS) : LOADER_BZIMAGE_LOAD;
    uint64_t init_size = version >= 0x20A ? rd32(img + HDR_INIT_SIZE) : 0;
    if (pref < LOADER_BZIMAGE_LOAD)
        pref = LOADER_BZIMAGE_LOAD;
    uint64_t need = LOADER_BZIMAGE_LOAD + kernel_len;
    if (pref + init_size > need)
        need = pref + init_size;
    if (need > c->pm->low_size)
        return loader_fail(c, "kernel needs %llu MiB of RAM below 3 GiB; the guest has %llu MiB",
                           (unsigned long long)((need + 0xFFFFF) >> 20),
                           (unsigned long long)(c->pm->low_size >> 20));
    if (loader_copy(c, LOADER_BZIMAGE_LOAD, img + setup_size, kernel_len, 0))
        return loader_fail(c, "guest RAM has no room for the kernel");

    /* The zero page: the image's setup header, then what the boot loader must fill in. */
    uint8_t bp[PAGE_SIZE];
    memset(bp, 0, sizeof(bp));
    size_t hdr_end = HDR_HEADER + img[HDR_JUMP + 1];
    if (hdr_end > HDR_END_MAX)
        hdr_end = HDR_END_MAX;
    if (hdr_end > len)
        hdr_end = len;
    memcpy(bp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
    wr16(bp + HDR_VID_MODE, 0xFFFF); /* "normal" */
    bp[HDR_TYPE_OF_LOADER] = 0xFF;   /* undefined boot loader */
    bp[HDR_LOADFLAGS] = (uint8_t)(loadflags | CAN_USE_HEAP);
    wr16(bp + HDR_HEAP_END_PTR, 0xFE00 - 0x200);

    uint32_t cmdline_size = rd32(img + HDR_CMDLINE_SIZE);
    if (loader_put_cmdline(c, (uint64_t)cmdline_size + 1))
        return -1;
    wr32(bp + HDR_CMD_LINE_PTR, (uint32_t)LOADER_CMDLINE);
    wr32(bp + BP_EXT_CMD_LINE_PTR, 0);

    if (c->opts->initrd_len) {
        uint64_t ilen = c->opts->initrd_len;
        uint64_t max = (uint64_t)rd32(img + HDR_INITRD_ADDR_MAX) + 1;
        gpa_t at = loader_place_high(c, ilen, need, max);
        if (!at || loader_copy(c, at, c->opts->initrd, ilen, 0))
            return loader_fail(c, "initrd (%llu bytes) does not fit in guest RAM between the kernel "
                               "(ends at 0x%llx) and 0x%llx",
                               (unsigned long long)ilen, (unsigned long long)need,
                               (unsigned long long)(max < c->pm->low_size ? max : c->pm->low_size));
        wr32(bp + HDR_RAMDISK_IMAGE, (uint32_t)at);
        wr32(bp + HDR_RAMDISK_SIZE, (uint32_t)ilen);
        wr32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(at >> 32));
        wr32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(ilen >> 32));
        c->out->initrd_start = at;
        c->out->initrd_size = ilen;
    }
    if (version >= 0x20E)
        wr64(bp + BP_ACPI_RSDP_ADDR, c->opts->acpi_rsdp);

    struct e820_entry map[LOADER_E820_MAX];
    unsigned n = loader_e820(c->pm, c->opts, map, LOADER_E820_MAX);
    for (unsigned i = 0; i < n && i < BP_E820_MAX; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        wr64(e, map[i].addr);
        wr64(e + 8, map[i].size);
        wr32(e + 16, map[i].type);
    }
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    if (physmem_load(c->pm, LOADER_ZERO_PAGE, bp, sizeof(bp)))
        return loader_fail(c, "guest RAM has no room for the zero page");

    /* 64-bit boot protocol when the kernel declares a 64-bit entry (2.12+ XLF_KERNEL_64);
     * otherwise the 32-bit protocol at the start of the protected-mode code. */
    bool entry64 = version >= 0x20C && (rd16(img + HDR_XLOADFLAGS) & XLF_KERNEL_64);
    struct boot_entry *o = c->out;
    o->kind = IMAGE_LINUX;
    o->mode = entry64 ? BOOT_LONG64 : BOOT_PROT32;
    o->rip = LOADER_BZIMAGE_LOAD + (entry64 ? ENTRY64_OFFSET : 0);
    o->rsi = LOADER_ZERO_PAGE;
    o->image_start = LOADER_BZIMAGE_LOAD;
    o->image_end = LOADER_BZIMAGE_LOAD + kernel_len;
    if (loader_setup_gdt(c, entry64) || (entry64 && loader_setup_paging(c)))
        return -1;
    return 0;
}
