/* Helpers shared by the loader tests: a guest RAM fixture, little-endian field access, and
 * builders for synthetic ELF, Multiboot and bzImage images. */
#ifndef HVEMU_TEST_LOADER_UTIL_H
#define HVEMU_TEST_LOADER_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/loader.h"
#include "mmu/physmem.h"

#define TEST_RAM (64ull << 20)

static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static inline void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16; }
static inline uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

static inline uint8_t *gp(struct physmem *pm, gpa_t a, uint64_t len)
{
    uint8_t *p = physmem_ram_ptr(pm, a, len);
    cr_assert_not_null(p, "guest range 0x%llx+0x%llx is not RAM", (unsigned long long)a,
                       (unsigned long long)len);
    return p;
}

/* Loads img into fresh RAM of ram bytes; returns load_image's result. */
static inline int try_load(struct physmem *pm, uint64_t ram, const uint8_t *img, size_t len,
                           const struct load_opts *o, struct boot_entry *e, char *err, size_t errlen)
{
    cr_assert_eq(physmem_init(pm, ram), 0);
    return load_image(pm, img, len, o, e, err, errlen);
}

/* A minimal ELF64 or ELF32 executable: one PT_LOAD at paddr holding payload (+ bss). */
struct elf_spec {
    bool is64;
    uint16_t machine, type;
    uint64_t entry, vaddr, paddr;
    const uint8_t *payload;
    size_t payload_len;
    uint64_t bss;
    unsigned nphdr; /* PT_LOAD count written (0 = no loadable segment) */
};

static inline size_t build_elf(uint8_t *buf, size_t cap, const struct elf_spec *s)
{
    size_t ehsz = s->is64 ? 64 : 52, phsz = s->is64 ? 56 : 32, off = 0x1000;
    cr_assert(cap >= off + s->payload_len);
    memset(buf, 0, off + s->payload_len);
    memcpy(buf, "\x7f" "ELF", 4);
    buf[4] = s->is64 ? 2 : 1;
    buf[5] = 1;
    buf[6] = 1;
    put16(buf + 16, s->type);
    put16(buf + 18, s->machine);
    put32(buf + 20, 1);
    unsigned nph = s->nphdr;
    if (s->is64) {
        put64(buf + 24, s->entry);
        put64(buf + 32, ehsz);
        put16(buf + 52, (uint16_t)ehsz);
        put16(buf + 54, (uint16_t)phsz);
        put16(buf + 56, (uint16_t)(nph ? nph : 1));
    } else {
        put32(buf + 24, (uint32_t)s->entry);
        put32(buf + 28, (uint32_t)ehsz);
        put16(buf + 40, (uint16_t)ehsz);
        put16(buf + 42, (uint16_t)phsz);
        put16(buf + 44, (uint16_t)(nph ? nph : 1));
    }
    for (unsigned i = 0; i < (nph ? nph : 1); i++) {
        uint8_t *ph = buf + ehsz + i * phsz;
        uint32_t type = nph ? 1 /* PT_LOAD */ : 4 /* PT_NOTE */;
        uint64_t sz = s->payload_len;
        if (s->is64) {
            put32(ph, type);
            put32(ph + 4, 7);
            put64(ph + 8, off);
            put64(ph + 16, s->vaddr);
            put64(ph + 24, s->paddr);
            put64(ph + 32, sz);
            put64(ph + 40, sz + s->bss);
            put64(ph + 48, 0x1000);
        } else {
            put32(ph, type);
            put32(ph + 4, (uint32_t)off);
            put32(ph + 8, (uint32_t)s->vaddr);
            put32(ph + 12, (uint32_t)s->paddr);
            put32(ph + 16, (uint32_t)sz);
            put32(ph + 20, (uint32_t)(sz + s->bss));
            put32(ph + 24, 7);
            put32(ph + 28, 0x1000);
        }
    }
    memcpy(buf + off, s->payload, s->payload_len);
    return off + s->payload_len;
}

/* Reads a whole file (the committed roms) into a malloc'd buffer. */
static inline uint8_t *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Path of a committed guest image, found relative to this source file. */
static inline void rom_path(char *out, size_t n, const char *name)
{
    const char *here = __FILE__; /* .../tests/unit/frontend/test_loader_util.h */
    const char *cut = strstr(here, "tests/unit/frontend/");
    cr_assert_not_null(cut, "unexpected __FILE__ %s", here);
    snprintf(out, n, "%.*sroms/bin/%s", (int)(cut - here), here, name);
}

#endif
