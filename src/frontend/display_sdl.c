/* --display sdl: an SDL2 window with one streaming texture of the 720x400 text screen. */
#ifdef HVEMU_HAVE_SDL
#include "frontend/display.h"

#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text and cursor blink: on for 266 ms, off for 266 ms (32 frames of 60 Hz per cycle). */
#define BLINK_HALF_MS 266

struct display {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    bool quit;
    bool drawn;                 /* shown and shown_blink hold what the window shows */
    bool shown_blink;
    struct vga_screen shown;
    uint32_t pixels[VGA_TEXT_WIDTH * VGA_TEXT_HEIGHT];
};

/* Leaves SDL as display_open found it: video off, the library shut down if nothing else uses it. */
static void sdl_video_done(void)
{
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    if (!SDL_WasInit(SDL_INIT_EVERYTHING))
        SDL_Quit();
}

struct display *display_open(enum display_mode mode, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (mode != DISPLAY_SDL)
        return NULL;
    /* Ctrl-C stays the frontend's: SDL would turn SIGINT/SIGTERM into a window-close event. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO)) {
        snprintf(err, errlen, "--display sdl: cannot open a window: %s", SDL_GetError());
        return NULL;
    }
    /* With no display server SDL falls back to its offscreen driver: a window nobody sees.
     * Take that only when asked for by name (SDL_VIDEODRIVER=offscreen, as the tests do). */
    const char *driver = SDL_GetCurrentVideoDriver(), *asked = SDL_GetHint(SDL_HINT_VIDEODRIVER);
    if (driver && (!strcmp(driver, "offscreen") || !strcmp(driver, "dummy")) && !(asked && *asked)) {
        sdl_video_done();
        snprintf(err, errlen, "--display sdl: no display to open a window on (is DISPLAY or WAYLAND_DISPLAY set?)");
        return NULL;
    }
    struct display *d = calloc(1, sizeof(*d));
    if (!d) {
        sdl_video_done();
        snprintf(err, errlen, "--display sdl: out of memory");
        return NULL;
    }
    d->win = SDL_CreateWindow("hvemu", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, VGA_TEXT_WIDTH,
                              VGA_TEXT_HEIGHT, SDL_WINDOW_RESIZABLE);
    if (d->win)
        d->ren = SDL_CreateRenderer(d->win, -1, 0);
    if (d->ren)
        d->tex = SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
                                   VGA_TEXT_WIDTH, VGA_TEXT_HEIGHT);
    /* A resized window scales the screen, keeping its aspect ratio. */
    if (!d->tex || SDL_RenderSetLogicalSize(d->ren, VGA_TEXT_WIDTH, VGA_TEXT_HEIGHT)) {
        snprintf(err, errlen, "--display sdl: cannot open a window: %s", SDL_GetError());
        display_close(d);
        return NULL;
    }
    SDL_SetRenderDrawColor(d->ren, 0, 0, 0, 255);
    SDL_RenderClear(d->ren);
    SDL_RenderPresent(d->ren);
    return d;
}

void display_update(struct display *d, const struct vga_screen *s)
{
    if (!d)
        return;
    bool blink_on = (SDL_GetTicks64() / BLINK_HALF_MS) % 2 == 0;
    /* An unchanged screen (most frames of a text console) costs no upload and no present. */
    if (d->drawn && blink_on == d->shown_blink && !memcmp(&d->shown, s, sizeof(*s)))
        return;
    memcpy(&d->shown, s, sizeof(*s));
    d->shown_blink = blink_on;
    d->drawn = true;
    vga_text_render(s, d->pixels, VGA_TEXT_WIDTH, blink_on);
    /* RGB888 is 0x00RRGGBB in a 32-bit word: the renderer's pixels as they are. */
    SDL_UpdateTexture(d->tex, NULL, d->pixels, VGA_TEXT_WIDTH * (int)sizeof(uint32_t));
    SDL_RenderClear(d->ren);
    SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
    SDL_RenderPresent(d->ren);
}

bool display_poll_quit(struct display *d)
{
    if (!d)
        return false;
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        if (ev.type == SDL_QUIT ||
            (ev.type == SDL_WINDOWEVENT && ev.window.event == SDL_WINDOWEVENT_CLOSE))
            d->quit = true;
        /* The window lost its contents or changed size: draw again even if the screen did not. */
        if (ev.type == SDL_WINDOWEVENT && (ev.window.event == SDL_WINDOWEVENT_EXPOSED ||
                                           ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED))
            d->drawn = false;
    }
    return d->quit;
}

void display_close(struct display *d)
{
    if (!d)
        return;
    if (d->tex)
        SDL_DestroyTexture(d->tex);
    if (d->ren)
        SDL_DestroyRenderer(d->ren);
    if (d->win)
        SDL_DestroyWindow(d->win);
    free(d);
    sdl_video_done();
}

int display_screenshot(struct display *d, const char *path, char *err, size_t errlen)
{
    if (!d) {
        snprintf(err, errlen, "no display to take a screenshot of");
        return -1;
    }
    /* Read the renderer's own output (texture upload and scaling included), not our buffer. */
    size_t n = (size_t)VGA_TEXT_WIDTH * VGA_TEXT_HEIGHT;
    uint32_t *px = malloc(n * sizeof(*px));
    uint8_t *rgb = malloc(n * 3);
    int rc = -1;
    if (!px || !rgb) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    SDL_RenderClear(d->ren);
    SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
    if (SDL_RenderReadPixels(d->ren, NULL, SDL_PIXELFORMAT_ARGB8888, px, VGA_TEXT_WIDTH * 4)) {
        snprintf(err, errlen, "cannot read the window back: %s", SDL_GetError());
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rgb[3 * i] = (uint8_t)(px[i] >> 16);
        rgb[3 * i + 1] = (uint8_t)(px[i] >> 8);
        rgb[3 * i + 2] = (uint8_t)px[i];
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create", path);
        goto out;
    }
    fprintf(f, "P6\n%d %d\n255\n", VGA_TEXT_WIDTH, VGA_TEXT_HEIGHT);
    bool ok = fwrite(rgb, 3, n, f) == n;
    ok &= fclose(f) == 0;
    if (!ok)
        snprintf(err, errlen, "%s: write error", path);
    rc = ok ? 0 : -1;
out:
    free(px);
    free(rgb);
    return rc;
}

void display_refresh(struct display_link *l)
{
    if (!l->d || !l->vga || !l->m)
        return;
    struct vga_screen s;
    vga_text_snapshot(l->vga, &l->m->mem, &s);
    display_update(l->d, &s);
}

void display_frame(void *opaque)
{
    struct display_link *l = opaque;
    if (!l->d)
        return;
    uint64_t now = SDL_GetTicks64();
    if (now < l->next_ms)
        return;
    l->next_ms = now + 1000 / DISPLAY_FPS;
    display_refresh(l);
    if (display_poll_quit(l->d))
        machine_request_stop(l->m, MSTOP_POWEROFF, 0);
}
#endif
