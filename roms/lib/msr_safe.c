/* rdmsr_safe/wrmsr_safe: MSR accesses that report a #GP through try_call instead of dying
 * (shared by the 64-bit and the 32-bit guest library). */
#include "guest.h"

struct msr_access {
    uint32_t index;
    uint64_t value;
};

static void do_rdmsr(void *p)
{
    struct msr_access *m = p;
    m->value = rdmsr(m->index);
}

static void do_wrmsr(void *p)
{
    struct msr_access *m = p;
    wrmsr(m->index, m->value);
}

bool rdmsr_safe(uint32_t msr, uint64_t *val)
{
    struct msr_access m = {msr, 0};
    if (try_call(do_rdmsr, &m))
        return false;
    *val = m.value;
    return true;
}

bool wrmsr_safe(uint32_t msr, uint64_t val)
{
    struct msr_access m = {msr, val};
    return try_call(do_wrmsr, &m) == 0;
}
