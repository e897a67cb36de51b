/* --bios: checks a raw firmware image's size and maps it where a PC's flash decodes (the top of
 * the 4 GiB space, the reset vector at FFFFFFF0h) and its low alias at E0000h-FFFFFh. */
#include "frontend/firmware.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/hostfile.h"
#include "mmu/physmem.h"

int firmware_check_size(const char *what, uint64_t len, char *err, size_t errlen)
{
    if (len != 0 && len % FIRMWARE_ALIGN == 0 && len <= FIRMWARE_MAX)
        return 0;
    snprintf(err, errlen,
             "firmware '%s' is %llu bytes: it must be a non-zero multiple of 64 KiB, at most 16 MiB",
             what, (unsigned long long)len);
    return -1;
}

int firmware_read(const char *path, struct host_file *out, char *err, size_t errlen)
{
    out->data = NULL;
    out->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    /* One byte more than the largest image tells a too-large file without reading it all. */
    uint8_t *buf = malloc(FIRMWARE_MAX + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "out of memory reading '%s'", path);
        return -1;
    }
    size_t n = fread(buf, 1, FIRMWARE_MAX + 1, f);
    int rc = -1;
    if (ferror(f))
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    else if (n > FIRMWARE_MAX)
        snprintf(err, errlen, "firmware '%s' is larger than 16 MiB: it must be a non-zero multiple "
                 "of 64 KiB, at most 16 MiB", path);
    else
        rc = firmware_check_size(path, n, err, errlen);
    fclose(f);
    if (rc) {
        free(buf);
        return -1;
    }
    out->data = buf;
    out->len = n;
    return 0;
}

int firmware_map(struct physmem *pm, const uint8_t *img, uint64_t len, char *err, size_t errlen)
{
    if (firmware_check_size("image", len, err, errlen))
        return -1;
    uint64_t low = len < FIRMWARE_LOW_SIZE ? len : FIRMWARE_LOW_SIZE;
    if (physmem_map_rom(pm, PHYS_HIGHMEM_BASE - len, img, len, "bios") ||
        physmem_map_rom(pm, FIRMWARE_LOW_END - low, img + len - low, low, "bios-low")) {
        snprintf(err, errlen, "cannot map the firmware: its range overlaps a device window");
        return -1;
    }
    return 0;
}
