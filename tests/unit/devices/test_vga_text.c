/* VGA text mode: register scripts through the port bus, screen snapshots from guest RAM, the
 * built-in font and the pixels the renderer draws. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "devices/font8x16.h"
#include "devices/vga_text.h"

enum op { END, OUT, IN };
struct step { enum op op; uint16_t port; uint32_t val; unsigned size; };
struct vga_case { const char *name; struct step s[24]; };

#define W(p, v) {OUT, (p), (v), 1}
#define R(p, v) {IN, (p), (v), 1}
#define CR(i, v) W(0x3d4, i), W(0x3d5, v)
#define CR_IS(i, v) W(0x3d4, i), R(0x3d5, v)

static const struct vga_case cases[] = {
    {"reset: misc output says colour, 0x3C2 reads input status 0", {R(0x3cc, 0x67), R(0x3c2, 0x00)}},
    {"reset: mode 3 CRTC", {CR_IS(0x00, 0x5f), CR_IS(0x09, 0x4f), CR_IS(0x0a, 0x0d), CR_IS(0x0b, 0x0e),
        CR_IS(0x11, 0x8e), CR_IS(0x13, 0x28), CR_IS(0x18, 0xff)}},
    {"CRTC index reads back", {W(0x3d4, 0x0e), R(0x3d4, 0x0e), W(0x3d4, 0xa7), R(0x3d4, 0xa7)}},
    {"cursor and start address registers", {CR(0x0a, 0x2b), CR(0x0b, 0x0f), CR(0x0c, 0x12), CR(0x0d, 0x34),
        CR(0x0e, 0x56), CR(0x0f, 0x78), CR_IS(0x0a, 0x2b), CR_IS(0x0b, 0x0f), CR_IS(0x0c, 0x12),
        CR_IS(0x0d, 0x34), CR_IS(0x0e, 0x56), CR_IS(0x0f, 0x78)}},
    {"other CRTC registers are stored", {CR(0x08, 0x11), CR(0x13, 0x50), CR(0x14, 0x40), CR(0x17, 0xe3),
        CR_IS(0x08, 0x11), CR_IS(0x13, 0x50), CR_IS(0x14, 0x40), CR_IS(0x17, 0xe3)}},
    {"CR11 bit 7 protects CR00-CR06", {CR(0x00, 0x12), CR(0x06, 0x34), CR_IS(0x00, 0x5f), CR_IS(0x06, 0xbf)}},
    {"CR07 bit 4 stays writable under protection", {CR(0x07, 0x00), CR_IS(0x07, 0x0f), CR(0x07, 0xff),
        CR_IS(0x07, 0x1f)}},
    {"clearing CR11 bit 7 unprotects", {CR(0x11, 0x0e), CR(0x00, 0x12), CR_IS(0x00, 0x12), CR(0x07, 0x00),
        CR_IS(0x07, 0x00)}},
    {"CRTC index out of range: reads ones, writes ignored", {CR(0x19, 0x00), CR_IS(0x19, 0xff),
        CR(0xff, 0x12), CR_IS(0xff, 0xff), CR_IS(0x18, 0xff)}},
    {"word OUT to 0x3D4 sets index and data", {{OUT, 0x3d4, 0x340e, 2}, CR_IS(0x0e, 0x34),
        {OUT, 0x3d4, 0x560f, 2}, R(0x3d4, 0x0f), R(0x3d5, 0x56), {IN, 0x3d4, 0x560f, 2}}},
    {"input status 1 retrace bits flip per read", {R(0x3da, 0x09), R(0x3da, 0x00), R(0x3da, 0x09),
        R(0x3da, 0x00)}},
    {"misc output write/read", {W(0x3c2, 0x63), R(0x3cc, 0x63)}},
    {"feature control write at 0x3DA, read at 0x3CA", {W(0x3da, 0x01), R(0x3ca, 0x01)}},
    {"attribute controller: index then data", {W(0x3c0, 0x21), W(0x3c0, 0x3f), R(0x3c0, 0x21),
        R(0x3c1, 0x3f), W(0x3c0, 0x34), W(0x3c0, 0x05), R(0x3c1, 0x05)}},
    {"attribute palette entries are 6 bits", {W(0x3c0, 0x22), W(0x3c0, 0xff), R(0x3c1, 0x3f)}},
    {"reading 0x3DA resets the flip-flop to index", {W(0x3c0, 0x30), R(0x3da, 0x09), W(0x3c0, 0x33),
        W(0x3c0, 0x0f), R(0x3c0, 0x33), W(0x3c0, 0x30), R(0x3c1, 0x0c)}},
    {"attribute index beyond the registers reads 0", {W(0x3c0, 0x3f), W(0x3c0, 0x55), R(0x3c1, 0x00),
        W(0x3c0, 0x34), R(0x3c1, 0x00)}},
    {"reset: attribute mode control and palette", {W(0x3c0, 0x30), R(0x3c1, 0x0c), R(0x3da, 0x09),
        W(0x3c0, 0x26), R(0x3c1, 0x14), R(0x3da, 0x00), W(0x3c0, 0x28), R(0x3c1, 0x38)}},
    {"sequencer and graphics controller store", {W(0x3c4, 0x02), W(0x3c5, 0x04), R(0x3c5, 0x04),
        W(0x3ce, 0x06), R(0x3cf, 0x0e), W(0x3cf, 0x05), R(0x3cf, 0x05), W(0x3c4, 0x09), R(0x3c5, 0xff)}},
    {"DAC write then read back, auto-increment", {W(0x3c8, 0x10), W(0x3c9, 0x01), W(0x3c9, 0x02),
        W(0x3c9, 0x03), W(0x3c9, 0xff), W(0x3c9, 0x05), W(0x3c9, 0x06), R(0x3c8, 0x12), R(0x3c7, 0x00),
        W(0x3c7, 0x10), R(0x3c7, 0x03), R(0x3c9, 0x01), R(0x3c9, 0x02), R(0x3c9, 0x03), R(0x3c9, 0x3f)}},
    {"DAC reset: EGA colours", {W(0x3c7, 0x14), R(0x3c9, 0x2a), R(0x3c9, 0x15), R(0x3c9, 0x00),
        R(0x3c9, 0x2a), R(0x3c9, 0x15), R(0x3c9, 0x2a)}},
    {"unused ports read all-ones", {R(0x3d0, 0xff), R(0x3df, 0xff), R(0x3cd, 0xff)}},
    {"dword access splits into bytes", {{OUT, 0x3d4, 0x0000330c, 4}, CR_IS(0x0c, 0x33)}},
    {"access running past the block drops the outside bytes", {{OUT, 0x3de, 0xffffffff, 4},
        {IN, 0x3de, 0xffff, 2}, R(0x3cc, 0x67)}},
};

Test(vga_text, register_scripts)
{
    for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
        struct iobus bus;
        struct vga_text v;
        iobus_init(&bus);
        vga_text_init(&v);
        cr_assert_eq(vga_text_register(&v, &bus), 0);
        for (size_t i = 0; i < ARRAY_SIZE(cases[c].s) && cases[c].s[i].op != END; i++) {
            const struct step *s = &cases[c].s[i];
            if (s->op == OUT) {
                iobus_write(&bus, s->port, s->val, s->size);
            } else {
                uint32_t got = iobus_read(&bus, s->port, s->size);
                cr_expect_eq(got, s->val, "%s: step %zu: in 0x%x = 0x%x, want 0x%x", cases[c].name, i,
                             s->port, got, s->val);
            }
        }
    }
}

Test(vga_text, retrace_polling_loops_finish)
{
    struct vga_text v;
    vga_text_init(&v);
    /* The classic wait: leave any retrace in progress, then wait for the next to start. */
    unsigned reads = 0;
    while ((vga_text_port_read(&v, 0x1a) & 0x08) && reads < 10)
        reads++;
    while (!(vga_text_port_read(&v, 0x1a) & 0x08) && reads < 10)
        reads++;
    cr_expect_lt(reads, 10);
}

/* ---- Snapshots from guest RAM. ---- */

struct snap_env {
    struct physmem pm;
    struct vga_text v;
    struct vga_screen s;
};

static void env_init(struct snap_env *e)
{
    cr_assert_eq(physmem_init(&e->pm, 2u << 20), 0);
    vga_text_init(&e->v);
}

static void put(struct snap_env *e, unsigned off, uint8_t ch, uint8_t attr)
{
    uint8_t b[2] = {ch, attr};
    physmem_write(&e->pm, VGA_TEXT_BASE + off, b, 2);
}

static void set_cr(struct vga_text *v, uint8_t i, uint8_t val)
{
    vga_text_port_write(v, 0x14, i);
    vga_text_port_write(v, 0x15, val);
}

struct snap_case {
    const char *name;
    uint16_t start, cursor;
    uint8_t cur_start, cur_end;
    unsigned off;      /* window offset written */
    unsigned row, col; /* where the cell must appear */
    bool visible;
    uint8_t crow, ccol;
};

static const struct snap_case snap_cases[] = {
    {"origin", 0, 0, 0x0d, 0x0e, 0, 0, 0, true, 0, 0},
    {"row 3 column 7", 0, 3 * 80 + 7, 0x0e, 0x0f, (3 * 80 + 7) * 2, 3, 7, true, 3, 7},
    {"last cell", 0, 1999, 0x00, 0x0f, 1999 * 2, 24, 79, true, 24, 79},
    {"start address scrolls", 80, 85, 0x0d, 0x0e, 80 * 2, 0, 0, true, 0, 5},
    {"start address wraps in the 32 KiB window", 0x3fd0, 0x3fd0 + 0x40, 0x0d, 0x0e, 0x20, 0, 0x40, true, 0, 0x40},
    {"cursor before the start is off screen", 160, 10, 0x0d, 0x0e, 160 * 2, 0, 0, false, 0, 0},
    {"cursor past the screen is off", 0, 2000, 0x0d, 0x0e, 0, 0, 0, false, 0, 0},
    {"cursor disabled by CR0A bit 5", 0, 0, 0x20, 0x0e, 0, 0, 0, false, 0, 0},
    {"cursor start below end draws nothing", 0, 0, 0x0e, 0x0d, 0, 0, 0, false, 0, 0},
    {"hostile start address 0xffff", 0xffff, 0xffff, 0x0d, 0x0e, 0x7ffe, 0, 0, true, 0, 0},
};

Test(vga_text, snapshot_cells_and_cursor)
{
    for (size_t i = 0; i < ARRAY_SIZE(snap_cases); i++) {
        const struct snap_case *c = &snap_cases[i];
        struct snap_env *e = calloc(1, sizeof(*e));
        env_init(e);
        put(e, c->off, 'Q', 0x1e);
        set_cr(&e->v, VGA_CR_START_HI, (uint8_t)(c->start >> 8));
        set_cr(&e->v, VGA_CR_START_LO, (uint8_t)c->start);
        set_cr(&e->v, VGA_CR_CURSOR_HI, (uint8_t)(c->cursor >> 8));
        set_cr(&e->v, VGA_CR_CURSOR_LO, (uint8_t)c->cursor);
        set_cr(&e->v, VGA_CR_CURSOR_START, c->cur_start);
        set_cr(&e->v, VGA_CR_CURSOR_END, c->cur_end);
        vga_text_snapshot(&e->v, &e->pm, &e->s);
        cr_expect_eq(e->s.cell[c->row][c->col].ch, 'Q', "%s: char", c->name);
        cr_expect_eq(e->s.cell[c->row][c->col].attr, 0x1e, "%s: attr", c->name);
        unsigned q = 0;
        for (unsigned r = 0; r < VGA_TEXT_ROWS; r++)
            for (unsigned col = 0; col < VGA_TEXT_COLS; col++)
                q += e->s.cell[r][col].ch == 'Q';
        cr_expect_eq(q, 1, "%s: %u cells show the character", c->name, q);
        cr_expect_eq(e->s.cursor_visible, c->visible, "%s: cursor visible", c->name);
        if (c->visible) {
            cr_expect_eq(e->s.cursor_row, c->crow, "%s: cursor row %u", c->name, e->s.cursor_row);
            cr_expect_eq(e->s.cursor_col, c->ccol, "%s: cursor col %u", c->name, e->s.cursor_col);
            cr_expect_eq(e->s.cursor_start, c->cur_start & 0x1f, "%s", c->name);
            cr_expect_eq(e->s.cursor_end, c->cur_end & 0x1f, "%s", c->name);
        }
        physmem_destroy(&e->pm);
        free(e);
    }
}

Test(vga_text, snapshot_palette)
{
    static const uint32_t cga[16] = {
        0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
        0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff,
    };
    struct snap_env *e = calloc(1, sizeof(*e));
    env_init(e);
    vga_text_snapshot(&e->v, &e->pm, &e->s);
    for (unsigned i = 0; i < 16; i++)
        cr_expect_eq(e->s.palette[i], cga[i], "colour %u: %06x", i, e->s.palette[i]);
    cr_expect(e->s.blink_enabled);
    cr_expect(e->s.line_graphics);
    cr_expect_not(e->s.blank);

    /* A guest that reprograms DAC entry 1 (through attribute entry 1) changes colour 1. */
    vga_text_port_write(&e->v, 0x08, 0x01);
    vga_text_port_write(&e->v, 0x09, 0x3f);
    vga_text_port_write(&e->v, 0x09, 0x20);
    vga_text_port_write(&e->v, 0x09, 0x00);
    /* Attribute entry 2 -> DAC 0x3F (white); mode control: no blink. */
    vga_text_port_read(&e->v, 0x1a);
    vga_text_port_write(&e->v, 0x00, 0x22);
    vga_text_port_write(&e->v, 0x00, 0x3f);
    vga_text_port_write(&e->v, 0x00, 0x30);
    vga_text_port_write(&e->v, 0x00, 0x04);
    vga_text_snapshot(&e->v, &e->pm, &e->s);
    cr_expect_eq(e->s.palette[1], 0xff8200, "%06x", e->s.palette[1]);
    cr_expect_eq(e->s.palette[2], 0xffffff, "%06x", e->s.palette[2]);
    cr_expect_not(e->s.blink_enabled);

    /* Colour plane enable masks the attribute colour before the palette. */
    vga_text_port_write(&e->v, 0x00, 0x32);
    vga_text_port_write(&e->v, 0x00, 0x07);
    vga_text_snapshot(&e->v, &e->pm, &e->s);
    cr_expect_eq(e->s.palette[15], cga[7], "%06x", e->s.palette[15]);

    /* The DAC mask, then an index without the palette-address-source bit blanks the screen. */
    vga_text_port_write(&e->v, 0x06, 0x00);
    vga_text_snapshot(&e->v, &e->pm, &e->s);
    cr_expect_eq(e->s.palette[14], 0, "%06x", e->s.palette[14]);
    vga_text_port_write(&e->v, 0x00, 0x00);
    vga_text_snapshot(&e->v, &e->pm, &e->s);
    cr_expect(e->s.blank);
    physmem_destroy(&e->pm);
    free(e);
}

Test(vga_text, snapshot_without_ram_is_safe)
{
    /* 512 KiB of RAM: 0xB8000 is a hole and reads as all-ones, never out of bounds. */
    struct snap_env *e = calloc(1, sizeof(*e));
    cr_assert_eq(physmem_init(&e->pm, 512u << 10), 0);
    vga_text_init(&e->v);
    vga_text_snapshot(&e->v, &e->pm, &e->s);
    cr_expect_eq(e->s.cell[24][79].ch, 0xff);
    physmem_destroy(&e->pm);
    free(e);
}

/* ---- Font and rendering. ---- */

/* One character at (0,0) rendered, as rows of '#' (foreground) and '.' (background). */
static void render_art(uint8_t ch, uint8_t attr, bool cursor, bool blink_on, char art[16][10])
{
    struct vga_screen *s = calloc(1, sizeof(*s));
    uint32_t *pix = calloc(VGA_TEXT_WIDTH * VGA_TEXT_HEIGHT, sizeof(*pix));
    struct vga_text v;
    vga_text_init(&v);
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 2u << 20), 0);
    uint8_t b[2] = {ch, attr};
    physmem_write(&pm, VGA_TEXT_BASE, b, 2);
    vga_text_port_write(&v, 0x14, VGA_CR_CURSOR_START);
    vga_text_port_write(&v, 0x15, cursor ? 0x0e : 0x20);
    vga_text_port_write(&v, 0x14, VGA_CR_CURSOR_END);
    vga_text_port_write(&v, 0x15, 0x0f);
    vga_text_snapshot(&v, &pm, s);
    vga_text_render(s, pix, VGA_TEXT_WIDTH, blink_on);
    uint32_t fg = s->palette[attr & 0x0f];
    for (unsigned y = 0; y < 16; y++) {
        for (unsigned x = 0; x < 9; x++)
            art[y][x] = pix[y * VGA_TEXT_WIDTH + x] == fg ? '#' : '.';
        art[y][9] = '\0';
    }
    physmem_destroy(&pm);
    free(pix);
    free(s);
}

struct glyph_case {
    const char *name;
    uint8_t ch, attr;
    bool cursor, blink_on;
    const char *art[16];
};

static const struct glyph_case glyphs[] = {
    {"A", 'A', 0x07, false, true, {".........", ".........", "...#.....", "..###....", ".##.##...",
        "##...##..", "##...##..", "#######..", "##...##..", "##...##..", "##...##..", "##...##..",
        ".........", ".........", ".........", "........."}},
    {"g", 'g', 0x0f, false, true, {".........", ".........", ".........", ".........", ".........",
        ".###.##..", "##..##...", "##..##...", "##..##...", "##..##...", "##..##...", ".#####...",
        "....##...", "##..##...", ".####....", "........."}},
    {"double box corner 0xC9 runs into the 9th dot", 0xc9, 0x1e, false, true, {".........",
        ".........", ".........", ".........", ".........", "..#######", "..##.....", "..##.####",
        "..##.##..", "..##.##..", "..##.##..", "..##.##..", "..##.##..", "..##.##..", "..##.##..",
        "..##.##.."}},
    {"horizontal line 0xC4", 0xc4, 0x07, false, true, {".........", ".........", ".........",
        ".........", ".........", ".........", ".........", "#########", ".........", ".........",
        ".........", ".........", ".........", ".........", ".........", "........."}},
    {"0xB3 vertical line keeps a blank 9th dot", 0xb3, 0x07, false, true, {"...##....", "...##....",
        "...##....", "...##....", "...##....", "...##....", "...##....", "...##....", "...##....",
        "...##....", "...##....", "...##....", "...##....", "...##....", "...##....", "...##...."}},
    {"smiley 0x01", 0x01, 0x07, false, true, {".........", ".........", ".######..", "#......#.",
        "#.#..#.#.", "#......#.", "#......#.", "#.####.#.", "#..##..#.", "#......#.", "#......#.",
        ".######..", ".........", ".........", ".........", "........."}},
    {"cursor on scan lines 14-15", ' ', 0x07, true, true, {".........", ".........", ".........",
        ".........", ".........", ".........", ".........", ".........", ".........", ".........",
        ".........", ".........", ".........", ".........", "#########", "#########"}},
    {"cursor hidden in the blink-off phase", ' ', 0x07, true, false, {".........", ".........",
        ".........", ".........", ".........", ".........", ".........", ".........", ".........",
        ".........", ".........", ".........", ".........", ".........", ".........", "........."}},
    {"blinking text hidden in the off phase", 'A', 0x87, false, false, {".........", ".........",
        ".........", ".........", ".........", ".........", ".........", ".........", ".........",
        ".........", ".........", ".........", ".........", ".........", ".........", "........."}},
};

Test(vga_text, font_and_render)
{
    for (size_t i = 0; i < ARRAY_SIZE(glyphs); i++) {
        char art[16][10];
        render_art(glyphs[i].ch, glyphs[i].attr, glyphs[i].cursor, glyphs[i].blink_on, art);
        for (unsigned y = 0; y < 16; y++)
            cr_expect_str_eq(art[y], glyphs[i].art[y], "%s: scan line %u", glyphs[i].name, y);
    }
}

Test(vga_text, render_colours)
{
    struct vga_screen *s = calloc(1, sizeof(*s));
    uint32_t *pix = calloc(VGA_TEXT_WIDTH * VGA_TEXT_HEIGHT, sizeof(*pix));
    for (unsigned i = 0; i < 16; i++)
        s->palette[i] = 0x111111u * i;
    s->blink_enabled = true;
    s->cell[1][2] = (struct vga_cell){0xdb, 0x4e}; /* full block: all foreground */
    s->cell[1][3] = (struct vga_cell){' ', 0xc1};  /* blink on: background 4, not 12 */
    vga_text_render(s, pix, VGA_TEXT_WIDTH, true);
    cr_expect_eq(pix[16 * VGA_TEXT_WIDTH + 2 * 9], 0xeeeeee);
    cr_expect_eq(pix[31 * VGA_TEXT_WIDTH + 2 * 9 + 7], 0xeeeeee);
    cr_expect_eq(pix[20 * VGA_TEXT_WIDTH + 3 * 9 + 4], 0x444444);
    s->blink_enabled = false;
    vga_text_render(s, pix, VGA_TEXT_WIDTH, true);
    cr_expect_eq(pix[20 * VGA_TEXT_WIDTH + 3 * 9 + 4], 0xcccccc);
    s->blank = true;
    vga_text_render(s, pix, VGA_TEXT_WIDTH, true);
    cr_expect_eq(pix[16 * VGA_TEXT_WIDTH + 2 * 9], 0);
    free(pix);
    free(s);
}

Test(font8x16, box_drawing_columns_connect)
{
    /* Every single/double box-drawing glyph that reaches the right edge does so on its 8th dot,
     * and the full block and blank are what their names say. */
    for (unsigned y = 0; y < 16; y++) {
        cr_expect_eq(font8x16[0xdb][y], 0xff, "0xDB line %u", y);
        cr_expect_eq(font8x16[0x20][y], 0x00, "space line %u", y);
        cr_expect_eq(font8x16[0xb0][y] & font8x16[0xb2][y], font8x16[0xb0][y], "shades line %u", y);
    }
    cr_expect_eq(font8x16[0xdc][0], 0x00);
    cr_expect_eq(font8x16[0xdc][15], 0xff);
    cr_expect_eq(font8x16[0xdf][0], 0xff);
    cr_expect_eq(font8x16[0xdd][5], 0xf0);
    cr_expect_eq(font8x16[0xde][5], 0x0f);
}
