/* What the boot loader handed over (Multiboot v1 as hvemu's loader implements it): the magic, the
 * entry state, the information structure, its memory map and strings. */
#include "guest.h"

static const struct mb_mmap_entry *mmap_find(const struct mb_info *mbi, uint64_t addr)
{
    uint32_t off = 0;
    while (off + sizeof(struct mb_mmap_entry) <= mbi->mmap_length) {
        const struct mb_mmap_entry *e =
            (const struct mb_mmap_entry *)(uintptr_t)(mbi->mmap_addr + off);
        if (e->type == 1 && addr >= e->addr && addr - e->addr < e->len)
            return e;
        off += e->size + 4;
    }
    return NULL;
}

int main(uint32_t info)
{
    printf("tests_boot_multiboot\n");
    CHECK_EQ("boot.magic", guest_mb_magic, 0x2BADB002);
    CHECK("boot.entry_protected_no_paging", (guest_entry_cr0 & 1) && !(guest_entry_cr0 >> 31));
    CHECK("boot.info_below_image", info != 0 && info + sizeof(struct mb_info) <= 0x100000);
    const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)info;
    printf("flags 0x%x mem_lower %u mem_upper %u mmap %u bytes at 0x%x\n", mbi->flags, mbi->mem_lower,
           mbi->mem_upper, mbi->mmap_length, mbi->mmap_addr);
    CHECK("boot.flags_mem_and_mmap", (mbi->flags & 0x41) == 0x41);
    CHECK_EQ("boot.mem_lower_639k", mbi->mem_lower, 639);

    uint64_t start = (uintptr_t)__image_start, end = (uintptr_t)__image_end;
    const struct mb_mmap_entry *ram = mmap_find(mbi, start);
    CHECK("boot.mmap_ram_holds_image", ram && end - ram->addr <= ram->len);
    CHECK("boot.mem_upper_matches_mmap",
          ram && ram->addr == 0x100000 && (uint64_t)mbi->mem_upper * 1024 == ram->len);
    CHECK("boot.mmap_low_ram", mmap_find(mbi, 0x1000) != NULL && mmap_find(mbi, 0x9FC00) == NULL);
    CHECK("boot.mmap_no_ram_in_bios_area", mmap_find(mbi, 0xF0000) == NULL && mmap_find(mbi, 0xA0000) == NULL);

    bool named = mbi->flags & (1u << 9);
    const char *name = named ? (const char *)(uintptr_t)mbi->boot_loader_name : "";
    check("boot.loader_name_hvemu", named && strcmp(name, "hvemu") == 0, "name '%s'", name);
    bool has_cmdline = mbi->flags & (1u << 2);
    CHECK("boot.cmdline_present", has_cmdline && strlen((const char *)(uintptr_t)mbi->cmdline) < 4096);
    if (has_cmdline)
        printf("cmdline: '%s'\n", (const char *)(uintptr_t)mbi->cmdline);

    bool mods_ok = true;
    if (mbi->flags & (1u << 3)) {
        const struct mb_module *m = (const struct mb_module *)(uintptr_t)mbi->mods_addr;
        for (uint32_t i = 0; i < mbi->mods_count; i++)
            mods_ok &= m[i].mod_start < m[i].mod_end && m[i].mod_start >= end && !(m[i].mod_start & 0xFFF);
    }
    CHECK("boot.modules_page_aligned_after_image", mods_ok);
    test_finish();
}
