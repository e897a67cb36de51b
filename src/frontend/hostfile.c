/* Whole-file reads for images and ramdisks, in portable C. */
#include "frontend/hostfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int host_file_read(const char *path, uint64_t max, struct host_file *out, char *err, size_t errlen)
{
    out->data = NULL;
    out->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    int rc = -1;
    if (!buf) {
        snprintf(err, errlen, "out of memory reading '%s'", path);
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                snprintf(err, errlen, "'%s' is larger than guest memory (%llu MiB)", path,
                         (unsigned long long)(max >> 20));
                goto out;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                snprintf(err, errlen, "out of memory reading '%s'", path);
                goto out;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
                goto out;
            }
            break;
        }
    }
    if (len == 0) {
        snprintf(err, errlen, "'%s' is empty", path);
        goto out;
    }
    if (len > max) {
        snprintf(err, errlen, "'%s' (%zu bytes) does not fit in guest memory (%llu MiB)", path, len,
                 (unsigned long long)(max >> 20));
        goto out;
    }
    out->data = buf;
    out->len = len;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

void host_file_free(struct host_file *f)
{
    free(f->data);
    f->data = NULL;
    f->len = 0;
}
