/* Reading whole host files with one clear error line. */
#ifndef HVEMU_HOSTFILE_H
#define HVEMU_HOSTFILE_H

#include "types.h"

struct host_file {
    uint8_t *data;
    size_t len;
};

/* Reads path; fails with a message if it is missing, unreadable, empty or larger than max. */
int host_file_read(const char *path, uint64_t max, struct host_file *out, char *err, size_t errlen);
void host_file_free(struct host_file *f);

#endif
