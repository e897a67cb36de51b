/* Internals shared by the physical-map files (physmem.c, physmem_alias.c); not a public face. */
#ifndef HVEMU_PHYSMEM_PRIV_H
#define HVEMU_PHYSMEM_PRIV_H

#include "mmu/physmem.h"

/* Zeroes pm and sets up the RAM layout and code bitmap for ram_size bytes, without RAM. */
int physmem_init_common(struct physmem *pm, uint64_t ram_size);
/* Fire pm's own code hook for the code pages among [gpa, gpa + len) (gpa as written). */
void physmem_code_check(struct physmem *pm, gpa_t gpa, uint64_t len);
/* A write to [gpa, gpa + len) of pm: fire the hooks of the windows onto it (and theirs),
 * except exclude (the window the write came through, which checked itself). */
void physmem_alias_notify_children(struct physmem *pm, gpa_t gpa, uint64_t len,
                                   const struct physmem *exclude);
/* Detach pm from the space it is a window of (if any). */
void physmem_alias_unlink(struct physmem *pm);
/* pm is going away: its windows become holes. */
void physmem_alias_orphan_children(struct physmem *pm);

#endif
