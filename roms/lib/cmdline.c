/* The Multiboot command line and whole-word tests on it (test kernels take options such as
 * "vps=2" through --append). */
#include "guest.h"

const char *guest_cmdline(uint32_t mb_info)
{
    const struct mb_info *mb = (const struct mb_info *)(uintptr_t)mb_info;
    if (guest_mb_magic != 0x2BADB002 || !mb || !(mb->flags & (1u << 2)) || !mb->cmdline)
        return "";
    return (const char *)(uintptr_t)mb->cmdline;
}

bool cmdline_has_word(const char *cmdline, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = cmdline; *p; p++)
        if ((p == cmdline || p[-1] == ' ') && memcmp(p, word, n) == 0 && (p[n] == 0 || p[n] == ' '))
            return true;
    return false;
}
