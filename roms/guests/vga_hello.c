/* A guest for --display sdl: named checks of the VGA registers on COM1, then a coloured screen in
 * VGA text memory (0xB8000) with the code page 437 character set and the 16 colours, and a counter
 * that moves for 0.3 s of virtual time with the hardware cursor after it. Powers off (status 0)
 * when every check passed, else leaves with debug_exit(GUEST_EXIT_FAIL) (status 65). */
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

static uint8_t crtc_read(uint8_t index)
{
    outb(CRTC_INDEX, index);
    return inb(CRTC_DATA);
}

/* Wait for the start of a vertical retrace, as drivers do before touching the screen; false if
 * it never came. */
static bool wait_retrace(void)
{
    unsigned i = 0;
    while (i < 1000 && (inb(INPUT_STATUS_1) & 0x08))
        i++;
    while (i < 1000 && !(inb(INPUT_STATUS_1) & 0x08))
        i++;
    return i < 1000;
}

/* The registers a text console relies on, through real port I/O: named checks on COM1. */
static void check_registers(void)
{
    CHECK_EQ("vga misc output: mode 3 (colour, 720x400)", inb(0x3CC), 0x67);
    CHECK("vga retrace polling finishes", wait_retrace());
    crtc(0x0E, 0x01);
    crtc(0x0F, 0x23);
    CHECK_EQ("vga crtc cursor location", (crtc_read(0x0E) << 8) | crtc_read(0x0F), 0x0123);
    outw(CRTC_INDEX, 0x4513); /* word OUT: index 0x13 (offset), data 0x45 */
    CHECK_EQ("vga crtc word write", crtc_read(0x13), 0x45);
    crtc(0x13, 0x28);
    (void)inb(INPUT_STATUS_1);
    outb(0x3C0, 0x30); /* attribute mode control, palette address source kept on */
    CHECK_EQ("vga attribute mode control", inb(0x3C1), 0x0C);
    outb(0x3C0, 0x0C);
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
    (void)mb_info;
    serial_init();
    check_registers();
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

    printf("vga_hello: screen written, counting for 0.3 s of virtual time\n");
    /* Cursor: an underline on scan lines 14-15. */
    crtc(0x0A, 0x0E);
    crtc(0x0B, 0x0F);
    uint64_t t0 = rdtsc(), end = t0 + 300000000ull; /* TSC runs at 1 GHz */
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
    puts_at(20, 3, "virtual time: 300 ms, done.", 0x1A);
    puts_at(22, 3, test_failed() ? "VGA register checks: FAILED (see COM1)" : "VGA register checks: ok",
            test_failed() ? 0x4F : 0x1A);
    printf("vga_hello: done\n");
    return test_failed() ? GUEST_EXIT_FAIL : 0;
}
