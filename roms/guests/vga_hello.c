/* A guest for --display sdl: a coloured screen in VGA text memory (0xB8000), the code page 437
 * character set and the 16 colours, a counter that moves for half a second of virtual time with
 * the hardware cursor after it, then power-off. The serial console tells the same story. */
#include "guest.h"

#define COLS 80
#define ROWS 25
#define CRTC_INDEX 0x3D4
#define CRTC_DATA 0x3D5
#define INPUT_STATUS_1 0x3DA

static volatile uint16_t *const text = (volatile uint16_t *)0xB8000;

static void put(unsigned row, unsigned col, uint8_t ch, uint8_t attr)
{
    if (row < ROWS && col < COLS)
        text[row * COLS + col] = (uint16_t)(ch | (attr << 8));
}

static void puts_at(unsigned row, unsigned col, const char *s, uint8_t attr)
{
    for (; *s; s++)
        put(row, col++, (uint8_t)*s, attr);
}

static void crtc(uint8_t index, uint8_t value)
{
    outb(CRTC_INDEX, index);
    outb(CRTC_DATA, value);
}

static void set_cursor(unsigned row, unsigned col)
{
    unsigned pos = row * COLS + col;
    crtc(0x0E, (uint8_t)(pos >> 8));
    crtc(0x0F, (uint8_t)pos);
}

/* Wait for the start of a vertical retrace, as drivers do before touching the screen. */
static void wait_retrace(void)
{
    for (unsigned i = 0; i < 1000 && (inb(INPUT_STATUS_1) & 0x08); i++)
        ;
    for (unsigned i = 0; i < 1000 && !(inb(INPUT_STATUS_1) & 0x08); i++)
        ;
}

static void frame(void)
{
    const uint8_t a = 0x1F; /* bright white on blue */
    for (unsigned r = 0; r < ROWS; r++)
        for (unsigned c = 0; c < COLS; c++)
            put(r, c, ' ', a);
    for (unsigned c = 1; c < COLS - 1; c++) {
        put(0, c, 0xCD, a);
        put(ROWS - 1, c, 0xCD, a);
    }
    for (unsigned r = 1; r < ROWS - 1; r++) {
        put(r, 0, 0xBA, a);
        put(r, COLS - 1, 0xBA, a);
    }
    put(0, 0, 0xC9, a);
    put(0, COLS - 1, 0xBB, a);
    put(ROWS - 1, 0, 0xC8, a);
    put(ROWS - 1, COLS - 1, 0xBC, a);
    puts_at(0, 30, " hvemu VGA text ", 0x1E);
}

int main(uint32_t mb_info)
{
    serial_init();
    wait_retrace();
    frame();
    puts_at(2, 3, "Hello from the guest: 80x25 colour text at 0xB8000.", 0x1F);

    /* The 16 foreground colours on black, and the 8 backgrounds. */
    puts_at(4, 3, "colours:", 0x17);
    for (unsigned c = 0; c < 16; c++) {
        put(4, 13 + 3 * c, 0xDB, (uint8_t)c);
        put(4, 14 + 3 * c, 0xDB, (uint8_t)c);
        put(4, 15 + 3 * c, ' ', 0x00);
    }
    for (unsigned c = 0; c < 8; c++)
        puts_at(5, 13 + 6 * c, " bg  ", (uint8_t)((c << 4) | (c == 7 ? 0x0 : 0xF)));

    /* Code page 437: 16 rows of 16 characters. */
    puts_at(7, 3, "code page 437:", 0x17);
    for (unsigned ch = 0; ch < 256; ch++)
        put(8 + ch / 32, 18 + (ch % 32) * 2, (uint8_t)ch, 0x1F);
    puts_at(17, 3, "box: \xDA\xC4\xC2\xC4\xBF \xC9\xCD\xCB\xCD\xBB shades: \xB0\xB1\xB2\xDB", 0x1B);
    puts_at(18, 3, "blinking:", 0x17);
    puts_at(18, 13, " attention ", 0xCE);

    printf("vga_hello: screen written, counting for 0.5 s of virtual time\n");
    /* Cursor: an underline on scan lines 14-15. */
    crtc(0x0A, 0x0E);
    crtc(0x0B, 0x0F);
    uint64_t t0 = rdtsc(), end = t0 + 500000000ull; /* TSC runs at 1 GHz */
    unsigned shown = ~0u;
    for (uint64_t now = t0; now < end; now = rdtsc()) {
        unsigned ms = (unsigned)((now - t0) / 1000000u);
        if (ms == shown)
            continue;
        shown = ms;
        char buf[32];
        snprintf(buf, sizeof(buf), "virtual time: %3u ms", ms);
        puts_at(20, 3, buf, 0x1A);
        set_cursor(20, 3 + (unsigned)strlen(buf));
    }
    puts_at(20, 3, "virtual time: 500 ms, done.", 0x1A);
    printf("vga_hello: done\n");
    return 0;
}
