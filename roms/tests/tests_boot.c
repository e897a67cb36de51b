/* What the boot loader handed over, for whichever protocol booted this image: Multiboot v1 (the
 * magic, entry state, information structure, memory map, strings) or, packed as a bzImage, the
 * Linux 64-bit boot protocol (entry selectors, the zero page, e820, command line, RSDP). */
#include "guest.h"

static bool ram_at(uint64_t addr, uint64_t (*next)(unsigned i, uint64_t *a, uint64_t *l, uint32_t *t))
{
    uint64_t a, l;
    uint32_t t;
    for (unsigned i = 0; next(i, &a, &l, &t); i++)
        if (t == 1 && addr >= a && addr - a < l)
            return true;
    return false;
}

/* ---- Multiboot ---- */
static const struct mb_info *mbi;

static uint64_t mb_entry(unsigned i, uint64_t *a, uint64_t *l, uint32_t *t)
{
    uint32_t off = 0;
    for (unsigned k = 0; off + sizeof(struct mb_mmap_entry) <= mbi->mmap_length; k++) {
        const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)(uintptr_t)(mbi->mmap_addr + off);
        if (k == i) {
            *a = e->addr;
            *l = e->len;
            *t = e->type;
            return 1;
        }
        off += e->size + 4;
    }
    return 0;
}

static void multiboot_checks(uint32_t info)
{
    CHECK("boot.entry_protected_no_paging", (guest_entry_cr0 & 1) && !(guest_entry_cr0 >> 31));
    CHECK("boot.info_below_image", info != 0 && info + sizeof(struct mb_info) <= 0x100000);
    mbi = (const struct mb_info *)(uintptr_t)info;
    printf("flags 0x%x mem_lower %u mem_upper %u mmap %u bytes at 0x%x\n", mbi->flags, mbi->mem_lower,
           mbi->mem_upper, mbi->mmap_length, mbi->mmap_addr);
    CHECK("boot.flags_mem_and_mmap", (mbi->flags & 0x41) == 0x41);
    CHECK_EQ("boot.mem_lower_639k", mbi->mem_lower, 639);

    uint64_t start = (uintptr_t)__image_start, end = (uintptr_t)__image_end;
    bool holds = false, upper_ok = false;
    uint64_t a, l;
    uint32_t t;
    for (unsigned i = 0; mb_entry(i, &a, &l, &t); i++) {
        if (t == 1 && start >= a && end - a <= l) {
            holds = true;
            upper_ok = a == 0x100000 && (uint64_t)mbi->mem_upper * 1024 == l;
        }
    }
    CHECK("boot.mmap_ram_holds_image", holds);
    CHECK("boot.mem_upper_matches_mmap", upper_ok);
    CHECK("boot.mmap_low_ram", ram_at(0x1000, mb_entry) && !ram_at(0x9FC00, mb_entry));
    CHECK("boot.mmap_no_ram_in_bios_area", !ram_at(0xF0000, mb_entry) && !ram_at(0xA0000, mb_entry));

    bool named = mbi->flags & (1u << 9);
    const char *name = named ? (const char *)(uintptr_t)mbi->boot_loader_name : "";
    check("boot.loader_name_hvemu", named && strcmp(name, "hvemu") == 0, "name '%s'", name);
    bool has_cmdline = mbi->flags & (1u << 2);
    CHECK("boot.cmdline_present", has_cmdline && strlen((const char *)(uintptr_t)mbi->cmdline) < 4096);
    if (has_cmdline)
        printf("cmdline: '%s'\n", (const char *)(uintptr_t)mbi->cmdline);

    bool mods_ok = true;
    uint32_t nmods = (mbi->flags & (1u << 3)) ? mbi->mods_count : 0;
    printf("modules: %u\n", nmods);
    const struct mb_module *m = (const struct mb_module *)(uintptr_t)mbi->mods_addr;
    for (uint32_t i = 0; i < nmods && i < 16; i++) {
        mods_ok &= m[i].mod_start < m[i].mod_end && m[i].mod_start >= end && !(m[i].mod_start & 0xFFF);
        const char *p = (const char *)(uintptr_t)m[i].mod_start;
        printf("module %u: %u bytes '%c%c%c%c' '%s'\n", i, m[i].mod_end - m[i].mod_start, p[0], p[1], p[2], p[3],
               (const char *)(uintptr_t)m[i].string);
    }
    CHECK("boot.modules_page_aligned_after_image", mods_ok);
}

/* ---- Linux boot protocol ---- */
static const uint8_t *bp;

static uint32_t bp32(unsigned off) { return *(const uint32_t *)(bp + off); }
static uint16_t bp16(unsigned off) { return *(const uint16_t *)(bp + off); }

static uint64_t e820_entry(unsigned i, uint64_t *a, uint64_t *l, uint32_t *t)
{
    if (i >= bp[0x1E8] || i >= 128)
        return 0;
    const uint8_t *e = bp + 0x2D0 + 20 * i;
    *a = *(const uint64_t *)e;
    *l = *(const uint64_t *)(e + 8);
    *t = *(const uint32_t *)(e + 16);
    return 1;
}

static void linux_checks(void)
{
    bp = (const uint8_t *)(uintptr_t)guest_boot_params;
    /* boot.rst "64-bit boot protocol": __BOOT_CS 0x10, __BOOT_DS 0x18, paging on. */
    CHECK_EQ("boot.linux.entry_cs", guest_entry_cs, 0x10);
    CHECK_EQ("boot.linux.entry_ds", guest_entry_ds, 0x18);
    CHECK("boot.linux.entry_paging", (guest_entry_cr0 >> 31) & 1);
    CHECK("boot.linux.params_below_1m", guest_boot_params && guest_boot_params < 0x100000);
    CHECK("boot.linux.setup_header", memcmp(bp + 0x202, "HdrS", 4) == 0);
    CHECK_EQ("boot.linux.type_of_loader", bp[0x210], 0xFF);
    CHECK_EQ("boot.linux.loadflags", bp[0x211] & 0x81, 0x81);
    CHECK_EQ("boot.linux.heap_end_ptr", bp16(0x224), 0xFE00 - 0x200);
    const char *cmdline = (const char *)(uintptr_t)bp32(0x228);
    CHECK("boot.linux.cmdline", bp32(0x228) && strlen(cmdline) <= bp32(0x238));
    printf("cmdline: '%s'\n", bp32(0x228) ? cmdline : "");

    unsigned n = bp[0x1E8];
    uint64_t a, l, ram = 0;
    uint32_t t;
    for (unsigned i = 0; e820_entry(i, &a, &l, &t); i++) {
        printf("e820: 0x%016llx-0x%016llx type %u\n", (unsigned long long)a, (unsigned long long)(a + l), t);
        if (t == 1)
            ram += l;
    }
    printf("e820 RAM: %llu KiB\n", (unsigned long long)(ram >> 10));
    CHECK("boot.linux.e820_present", n > 0 && n <= 128);
    CHECK("boot.linux.e820_holds_image",
          ram_at((uintptr_t)__image_start, e820_entry) && ram_at((uintptr_t)__image_end - 1, e820_entry));
    CHECK("boot.linux.e820_low_ram", ram_at(0x1000, e820_entry) && !ram_at(0xA0000, e820_entry) &&
                                          !ram_at(0xF0000, e820_entry));

    uint32_t rd = bp32(0x218), rd_len = bp32(0x21C);
    CHECK("boot.linux.initrd_placement", rd_len == 0 || (!(rd & 0xFFF) && rd >= (uintptr_t)__image_end &&
                                                         ram_at(rd, e820_entry) && ram_at(rd + rd_len - 1, e820_entry)));
    if (rd_len)
        printf("initrd: %u bytes at 0x%x, starts '%c%c%c%c'\n", rd_len, rd, ((const char *)(uintptr_t)rd)[0],
               ((const char *)(uintptr_t)rd)[1], ((const char *)(uintptr_t)rd)[2], ((const char *)(uintptr_t)rd)[3]);
    uint64_t rsdp = *(const uint64_t *)(bp + 0x70);
    printf("acpi_rsdp_addr: 0x%llx\n", (unsigned long long)rsdp);
    CHECK("boot.linux.acpi_rsdp", rsdp == 0 || memcmp((const void *)(uintptr_t)rsdp, "RSD PTR ", 8) == 0);
}

int main(uint32_t info)
{
    printf("tests_boot\n");
    if (guest_boot_params) {
        printf("booted by: Linux boot protocol, zero page at 0x%x\n", guest_boot_params);
        linux_checks();
    } else {
        CHECK_EQ("boot.magic", guest_mb_magic, 0x2BADB002);
        multiboot_checks(info);
    }
    test_finish();
}
