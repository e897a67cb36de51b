/* Loader internals shared by loader*.c: the load context, error reporting, and the pieces of
 * boot state (GDT, identity page tables, high placement) several image formats need. */
#ifndef HVEMU_LOADER_PRIV_H
#define HVEMU_LOADER_PRIV_H

#include "frontend/loader.h"

/* The loader's own structures live in [LOADER_AREA_START, LOADER_AREA_END); images may not. */
#define LOADER_AREA_START LOADER_GDT
#define LOADER_AREA_END   (LOADER_CMDLINE + LOADER_CMDLINE_MAX)
/* Boot loaders and kernels assume RAM at least this large (1 MiB below, 1 MiB above). */
#define LOADER_MIN_RAM    0x200000ull

struct load_ctx {
    struct physmem *pm;
    const uint8_t *img;
    size_t len;
    const struct load_opts *opts;
    struct boot_entry *out;
    char *err;
    size_t errlen;
};
int loader_fail(struct load_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int loader_elf(struct load_ctx *c, bool multiboot);
int loader_multiboot(struct load_ctx *c, size_t hdr_off);
int loader_linux(struct load_ctx *c);
/* Offset of a valid Multiboot v1 header in the first 8 KiB, or -1. */
long loader_find_multiboot(const uint8_t *img, size_t len);
/* GDT at LOADER_GDT; long=true makes LOADER_CS a 64-bit code segment. Also sets out->gdt_*. */
int loader_setup_gdt(struct load_ctx *c, bool long_mode);
/* Identity map of the first 4 GiB with 2 MiB pages at LOADER_PML4; sets out->cr3. */
int loader_setup_paging(struct load_ctx *c);
/* Place len bytes at the top of low RAM below limit, page-aligned, above floor. 0 if no room. */
gpa_t loader_place_high(const struct load_ctx *c, uint64_t len, gpa_t floor, gpa_t limit);
/* Copies len bytes of the image (already bounds-checked by the caller) and zeroes zero_len more. */
int loader_copy(struct load_ctx *c, gpa_t gpa, const uint8_t *src, uint64_t len, uint64_t zero_len);
/* true when [gpa, gpa+len) overlaps the loader area. */
bool loader_hits_area(gpa_t gpa, uint64_t len);
/* Writes the kernel command line at LOADER_CMDLINE (max bytes including the NUL). */
int loader_put_cmdline(struct load_ctx *c, uint64_t max);

#endif
