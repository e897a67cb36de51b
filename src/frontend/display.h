/* The host window showing the guest's VGA text screen (--display). Frontend only: it paces itself
 * by the host clock, which is fine because nothing here is guest-visible. Keyboard input is not
 * handled yet (the guest's console input is the serial port). */
#ifndef HVEMU_DISPLAY_H
#define HVEMU_DISPLAY_H

#include "devices/vga_text.h"
#include "frontend/cli.h"

struct display;

/* DISPLAY_NONE: NULL with err empty (nothing to show). DISPLAY_SDL: a window, or NULL with one
 * line in err (no video device, or a build without SDL2). */
struct display *display_open(enum display_mode mode, char *err, size_t errlen);
/* Draws s now. Every function here accepts a NULL display and then does nothing. */
void display_update(struct display *d, const struct vga_screen *s);
/* Handles pending window events; true once the user has closed the window. */
bool display_poll_quit(struct display *d);
void display_close(struct display *d);
/* Reads back what the window shows as a binary PPM (P6, 720x400); 0, or -1 with err. */
int display_screenshot(struct display *d, const char *path, char *err, size_t errlen);

/* Redraws at most this often per host second. */
#define DISPLAY_FPS 30

/* What the run loop's frame hook needs: the window, the machine it stops when the window closes,
 * and the VGA whose screen it shows. */
struct display_link {
    struct display *d;
    struct machine *m;
    struct vga_text *vga;
    uint64_t next_ms; /* host time of the next redraw */
};

/* The machine's frame hook (opaque = struct display_link *): call it between slices, as often
 * as is cheap; it redraws and handles window events at most DISPLAY_FPS times per host second,
 * and stops the machine (as a power-off) once the window is closed. */
void display_frame(void *opaque);
/* Redraw now, whatever the time: the last screen before the window closes. */
void display_refresh(struct display_link *l);

#endif
