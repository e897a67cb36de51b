/* The display in a build without SDL2: no window, and --display sdl says so. */
#ifndef HVEMU_HAVE_SDL
#include "frontend/display.h"

#include <stdio.h>

struct display *display_open(enum display_mode mode, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (mode == DISPLAY_SDL)
        snprintf(err, errlen, "--display sdl: this hvemu was built without SDL2");
    return NULL;
}

void display_update(struct display *d, const struct vga_screen *s)
{
}

bool display_poll_quit(struct display *d)
{
    return false;
}

void display_close(struct display *d)
{
}

int display_screenshot(struct display *d, const char *path, char *err, size_t errlen)
{
    snprintf(err, errlen, "no display to take a screenshot of");
    return -1;
}

void display_refresh(struct display_link *l)
{
}

void display_frame(void *opaque)
{
}
#endif
