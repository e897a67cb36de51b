/* Raw firmware images (--bios): size rules and their mapping at the top of the 4 GiB space with
 * the PC's low alias at E0000h-FFFFFh, so that VP 0 starts in them at the reset vector. */
#ifndef HVEMU_FIRMWARE_H
#define HVEMU_FIRMWARE_H

#include "types.h"

struct physmem;
struct host_file;

#define FIRMWARE_ALIGN     (64ull << 10)  /* flash parts come in 64 KiB blocks */
#define FIRMWARE_MAX       (16ull << 20)  /* FF000000h-FFFFFFFFh: below the APIC/HPET windows */
#define FIRMWARE_LOW_SIZE  (128ull << 10) /* the legacy BIOS area E0000h-FFFFFh */
#define FIRMWARE_LOW_END   0x100000ull

/* 0 if len is a valid firmware size (a non-zero multiple of 64 KiB, at most 16 MiB), else -1
 * with one line in err naming what. */
int firmware_check_size(const char *what, uint64_t len, char *err, size_t errlen);
/* Reads path (at most 16 MiB + 1 bytes) and checks its size; free with host_file_free. */
int firmware_read(const char *path, struct host_file *out, char *err, size_t errlen);
/* Maps img read-only at 4 GiB - len and its last 128 KiB (all of it if smaller) ending at
 * 1 MiB. Returns 0, or -1 with one line in err. */
int firmware_map(struct physmem *pm, const uint8_t *img, uint64_t len, char *err, size_t errlen);

#endif
