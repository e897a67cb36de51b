/* --display: the window shows exactly the rendered text screen, closing it stops the machine,
 * and a display that is not there (none, or no SDL) is harmless. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, setenv */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/display.h"

Test(display, none_opens_nothing)
{
    char err[128] = "x";
    cr_expect_null(display_open(DISPLAY_NONE, err, sizeof(err)));
    cr_expect_str_empty(err);
    /* Every call takes the missing display. */
    display_update(NULL, NULL);
    cr_expect_not(display_poll_quit(NULL));
    cr_expect_eq(display_screenshot(NULL, "/dev/null", err, sizeof(err)), -1);
    display_close(NULL);
    struct display_link l = {0};
    display_frame(&l);
    display_refresh(&l);
}

#ifdef HVEMU_HAVE_SDL
#include <SDL.h>

static void use_offscreen(void)
{
    /* No X server in CI: SDL's offscreen driver has real windows and a software renderer. */
    setenv("SDL_VIDEODRIVER", "offscreen", 1);
}

static uint8_t *read_ppm(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    int w = 0, h = 0, max = 0;
    cr_assert_eq(fscanf(f, "P6 %d %d %d", &w, &h, &max), 3);
    fgetc(f);
    cr_assert_eq(w, VGA_TEXT_WIDTH);
    cr_assert_eq(h, VGA_TEXT_HEIGHT);
    cr_assert_eq(max, 255);
    size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *buf = malloc(n);
    cr_assert_eq(fread(buf, 1, n, f), n);
    fclose(f);
    return buf;
}

/* Pixels that differ between the window and the renderer's own drawing of s. */
static size_t diff_pixels(const uint8_t *rgb, const struct vga_screen *s)
{
    uint32_t *want = calloc(VGA_TEXT_WIDTH * VGA_TEXT_HEIGHT, sizeof(*want));
    vga_text_render(s, want, VGA_TEXT_WIDTH, true);
    size_t bad = 0;
    for (size_t i = 0; i < (size_t)VGA_TEXT_WIDTH * VGA_TEXT_HEIGHT; i++) {
        uint32_t got = ((uint32_t)rgb[3 * i] << 16) | ((uint32_t)rgb[3 * i + 1] << 8) | rgb[3 * i + 2];
        bad += got != want[i];
    }
    free(want);
    return bad;
}

static void write_text(struct physmem *pm, unsigned row, unsigned col, const char *t, uint8_t attr)
{
    for (unsigned i = 0; t[i]; i++) {
        uint8_t cell[2] = {(uint8_t)t[i], attr};
        physmem_write(pm, VGA_TEXT_BASE + (row * VGA_TEXT_COLS + col + i) * 2, cell, 2);
    }
}

Test(display, window_shows_the_screen)
{
    use_offscreen();
    char err[256];
    struct display *d = display_open(DISPLAY_SDL, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);
    struct vga_screen *s = calloc(1, sizeof(*s));
    struct vga_text v;
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 2u << 20), 0);
    vga_text_init(&v);
    vga_text_port_write(&v, 0x14, VGA_CR_CURSOR_START);
    vga_text_port_write(&v, 0x15, 0x20); /* no cursor: the picture does not depend on blink time */
    write_text(&pm, 0, 0, "Hello, VGA", 0x1f);
    write_text(&pm, 24, 60, "\xc9\xcd\xcd\xbb bottom", 0x4e);
    vga_text_snapshot(&v, &pm, s);
    display_update(d, s);
    char path[] = "/tmp/hvemu_display_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(display_screenshot(d, path, err, sizeof(err)), 0, "%s", err);
    uint8_t *rgb = read_ppm(path);
    cr_expect_eq(diff_pixels(rgb, s), 0);
    /* Top-left pixel of 'H' on blue is background blue; the cell at row 24 is red. */
    cr_expect_eq(rgb[0], 0x00);
    cr_expect_eq(rgb[2], 0xaa);
    size_t p = ((size_t)(24 * 16) * VGA_TEXT_WIDTH + 60 * 9) * 3;
    cr_expect_eq(rgb[p], 0xaa);
    cr_expect_eq(rgb[p + 2], 0x00);
    free(rgb);
    remove(path);
    physmem_destroy(&pm);
    free(s);
    display_close(d);
}

Test(display, frame_hook_redraws_and_closing_stops_the_machine)
{
    use_offscreen();
    char err[256];
    struct machine *m = calloc(1, sizeof(*m));
    cr_assert_eq(physmem_init(&m->mem, 2u << 20), 0);
    struct vga_text v;
    vga_text_init(&v);
    vga_text_port_write(&v, 0x14, VGA_CR_CURSOR_START);
    vga_text_port_write(&v, 0x15, 0x20);
    struct display_link l = {display_open(DISPLAY_SDL, err, sizeof(err)), m, &v, 0};
    cr_assert_not_null(l.d, "%s", err);

    write_text(&m->mem, 12, 30, "from guest RAM", 0x0a);
    display_frame(&l);
    struct vga_screen *s = calloc(1, sizeof(*s));
    vga_text_snapshot(&v, &m->mem, s);
    char path[] = "/tmp/hvemu_display_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(display_screenshot(l.d, path, err, sizeof(err)), 0, "%s", err);
    uint8_t *rgb = read_ppm(path);
    cr_expect_eq(diff_pixels(rgb, s), 0, "the hook drew the screen");
    free(rgb);

    /* The next redraw shows what changed since (an unchanged screen may be skipped). */
    write_text(&m->mem, 13, 30, "and then more", 0x4f);
    l.next_ms = 0;
    display_frame(&l);
    vga_text_snapshot(&v, &m->mem, s);
    cr_assert_eq(display_screenshot(l.d, path, err, sizeof(err)), 0, "%s", err);
    rgb = read_ppm(path);
    cr_expect_eq(diff_pixels(rgb, s), 0, "the hook drew the change");
    free(rgb);

    /* Before its next redraw time the hook does nothing, not even look at events. */
    SDL_Event quit = {.type = SDL_QUIT};
    SDL_PushEvent(&quit);
    l.next_ms = UINT64_MAX;
    display_frame(&l);
    cr_expect_eq(m->stop, MSTOP_NONE);
    l.next_ms = 0;
    display_frame(&l);
    cr_expect_eq(m->stop, MSTOP_POWEROFF);
    cr_expect_eq(m->exit_status, HVEMU_EXIT_POWEROFF);

    remove(path);
    free(s);
    display_close(l.d);
    physmem_destroy(&m->mem);
    free(m);
}

Test(display, closing_the_window_is_a_quit)
{
    use_offscreen();
    char err[256];
    struct display *d = display_open(DISPLAY_SDL, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);
    cr_expect_not(display_poll_quit(d));
    SDL_Event ev = {.type = SDL_WINDOWEVENT};
    ev.window.event = SDL_WINDOWEVENT_CLOSE;
    SDL_PushEvent(&ev);
    cr_expect(display_poll_quit(d));
    cr_expect(display_poll_quit(d), "a closed window stays closed");
    display_close(d);
}
Test(display, no_display_server_is_an_error)
{
    unsetenv("SDL_VIDEODRIVER");
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    char err[256];
    struct display *d = display_open(DISPLAY_SDL, err, sizeof(err));
    if (d) {
        /* A host with a console of its own (KMS) may still show a window: not a silent one. */
        const char *drv = SDL_GetCurrentVideoDriver();
        cr_expect(strcmp(drv, "offscreen") && strcmp(drv, "dummy"), "driver %s", drv);
        display_close(d);
    } else {
        cr_expect_str_eq(err, "--display sdl: no display to open a window on (is DISPLAY or WAYLAND_DISPLAY set?)");
    }
}
#else
Test(display, sdl_without_sdl_is_one_clear_error)
{
    char err[128];
    cr_expect_null(display_open(DISPLAY_SDL, err, sizeof(err)));
    cr_expect_str_eq(err, "--display sdl: this hvemu was built without SDL2");
}
#endif
