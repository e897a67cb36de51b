/* ELF images through libelf: PT_LOAD segments at their physical addresses, for Multiboot ELF
 * kernels and plain ELF32 (32-bit protected-mode entry) / ELF64 (64-bit entry) images. */
#include "frontend/loader_priv.h"

#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/physmem.h"

struct elf_span {
    uint64_t lo, hi; /* loaded physical range */
    bool any;
};

static int load_segments(struct load_ctx *c, Elf *e, struct elf_span *span, uint64_t *entry)
{
    size_t n;
    if (elf_getphdrnum(e, &n))
        return loader_fail(c, "corrupt ELF: bad program header table (%s)", elf_errmsg(-1));
    uint64_t entry_in = *entry;
    bool entry_found = false;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph))
            return loader_fail(c, "corrupt ELF: program header %zu unreadable (%s)", i, elf_errmsg(-1));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz)
            return loader_fail(c, "corrupt ELF: segment %zu has file size 0x%llx above memory size 0x%llx",
                               i, (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
        if (ph.p_offset > c->len || ph.p_filesz > c->len - ph.p_offset)
            return loader_fail(c, "truncated ELF: segment %zu needs file bytes 0x%llx-0x%llx, file has 0x%zx",
                               i, (unsigned long long)ph.p_offset,
                               (unsigned long long)(ph.p_offset + ph.p_filesz), c->len);
        uint64_t pa = ph.p_paddr, end = pa + ph.p_memsz;
        if (end > pa && loader_hits_area(pa, ph.p_memsz))
            return loader_fail(c, "ELF segment %zu (0x%llx-0x%llx) overlaps hvemu's boot area 0x%llx-0x%llx",
                               i, (unsigned long long)pa, (unsigned long long)end,
                               (unsigned long long)LOADER_AREA_START, (unsigned long long)LOADER_AREA_END);
        if (end < pa || loader_copy(c, pa, c->img + ph.p_offset, ph.p_filesz, ph.p_memsz - ph.p_filesz))
            return loader_fail(c, "ELF segment %zu (0x%llx-0x%llx) lies outside guest RAM (%llu MiB)", i,
                               (unsigned long long)pa, (unsigned long long)end,
                               (unsigned long long)(c->pm->ram_size >> 20));
        if (!span->any || pa < span->lo)
            span->lo = pa;
        if (!span->any || end > span->hi)
            span->hi = end;
        span->any = true;
        /* The entry may be given as a virtual address (vmlinux-style links): translate it. */
        if (entry_in >= pa && entry_in < end) {
            *entry = entry_in;
            entry_found = true;
        } else if (!entry_found && entry_in >= ph.p_vaddr && entry_in - ph.p_vaddr < ph.p_memsz) {
            *entry = pa + (entry_in - ph.p_vaddr);
            entry_found = true;
        }
    }
    if (!span->any)
        return loader_fail(c, "ELF has no loadable segments");
    if (!entry_found)
        return loader_fail(c, "ELF entry point 0x%llx is outside its loaded segments",
                           (unsigned long long)entry_in);
    return 0;
}

int loader_elf(struct load_ctx *c, bool multiboot)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return loader_fail(c, "libelf is unusable: %s", elf_errmsg(-1));
    if (c->len < EI_NIDENT || c->img[EI_CLASS] == ELFCLASSNONE || c->img[EI_CLASS] > ELFCLASS64)
        return loader_fail(c, "corrupt ELF: bad identification bytes");
    if (c->img[EI_DATA] != ELFDATA2LSB)
        return loader_fail(c, "ELF image is not little-endian");
    /* libelf may rewrite the buffer it parses, and the image is const: parse a copy. */
    char *copy = malloc(c->len);
    if (!copy)
        return loader_fail(c, "out of memory reading the ELF image");
    memcpy(copy, c->img, c->len);
    int rc = -1;
    Elf *e = elf_memory(copy, c->len);
    GElf_Ehdr eh;
    if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
        loader_fail(c, "corrupt ELF: %s", elf_errmsg(-1));
        goto out;
    }
    int cls = gelf_getclass(e);
    if (eh.e_type != ET_EXEC) {
        loader_fail(c, "ELF image is not an executable (e_type %u)", eh.e_type);
        goto out;
    }
    if ((cls == ELFCLASS64 && eh.e_machine != EM_X86_64) ||
        (cls == ELFCLASS32 && eh.e_machine != EM_386 && eh.e_machine != EM_X86_64)) {
        loader_fail(c, "ELF image is for another machine (e_machine %u)", eh.e_machine);
        goto out;
    }
    struct elf_span span = {0};
    uint64_t entry = eh.e_entry;
    if (load_segments(c, e, &span, &entry))
        goto out;
    bool long_mode = !multiboot && cls == ELFCLASS64;
    if (entry >= (1ull << 32)) {
        loader_fail(c, "ELF entry point 0x%llx is above 4 GiB", (unsigned long long)entry);
        goto out;
    }
    struct boot_entry *o = c->out;
    o->rip = entry;
    o->image_start = span.lo;
    o->image_end = span.hi;
    o->mode = long_mode ? BOOT_LONG64 : BOOT_PROT32;
    o->kind = multiboot ? IMAGE_MULTIBOOT : cls == ELFCLASS64 ? IMAGE_ELF64 : IMAGE_ELF32;
    if (multiboot) {
        rc = 0; /* the Multiboot loader builds the rest of the state */
        goto out;
    }
    if (c->opts->initrd_len) {
        loader_fail(c, "an initrd needs a Multiboot or Linux image; this is a plain ELF");
        goto out;
    }
    if (loader_setup_gdt(c, long_mode) || (long_mode && loader_setup_paging(c)))
        goto out;
    rc = 0;
out:
    if (e)
        elf_end(e);
    free(copy);
    return rc;
}
