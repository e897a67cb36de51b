/* The VGA text-mode register block (ports 0x3C0-0x3DF), the screen snapshot and its rendering.
 * Register facts: IBM VGA Technical Reference; reset values are the mode 3 set the BIOS loads. */
#include "devices/vga_text.h"

#include <string.h>

#include "devices/font8x16.h"

/* Port offsets from VGA_IO_BASE. */
enum {
    P_AR_INDEX = 0x00,   /* write: index, then data (flip-flop); read: index */
    P_AR_DATA = 0x01,    /* read: data at the index */
    P_MISC_W = 0x02,     /* write: misc output; read: input status 0 */
    P_SEQ_INDEX = 0x04,
    P_SEQ_DATA = 0x05,
    P_DAC_MASK = 0x06,
    P_DAC_READ_INDEX = 0x07, /* write: read index; read: DAC state */
    P_DAC_WRITE_INDEX = 0x08,
    P_DAC_DATA = 0x09,
    P_FEATURE_R = 0x0A,
    P_MISC_R = 0x0C,
    P_GC_INDEX = 0x0E,
    P_GC_DATA = 0x0F,
    P_CRTC_INDEX = 0x14,
    P_CRTC_DATA = 0x15,
    P_STATUS1 = 0x1A,    /* read: input status 1; write: feature control */
};

/* Input status 1: bit 0 display disabled (blanking), bit 3 vertical retrace. */
#define STATUS1_RETRACE 0x09

static const uint8_t mode3_crtc[VGA_CRTC_REGS] = {
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
    0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
};
static const uint8_t mode3_seq[VGA_SEQ_REGS] = {0x03, 0x00, 0x03, 0x00, 0x02};
static const uint8_t mode3_gc[VGA_GC_REGS] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF};
static const uint8_t mode3_ar[VGA_AR_REGS] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
    0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00,
};

void vga_text_reset(struct vga_text *v)
{
    memset(v, 0, sizeof(*v));
    v->misc = 0x67; /* colour I/O at 0x3Dx, RAM enabled, 28 MHz clock (720 dots), 400 lines */
    memcpy(v->crtc, mode3_crtc, sizeof(v->crtc));
    memcpy(v->seq, mode3_seq, sizeof(v->seq));
    memcpy(v->gc, mode3_gc, sizeof(v->gc));
    memcpy(v->ar, mode3_ar, sizeof(v->ar));
    v->ar_index = VGA_AR_INDEX_PAS;
    v->dac_mask = 0xFF;
    /* The BIOS loads DAC 0-63 with the EGA colours: bits 2/1/0 give 2/3 of R/G/B, 5/4/3 1/3. */
    for (unsigned i = 0; i < 64; i++) {
        v->dac[i][0] = (uint8_t)(((i >> 2) & 1) * 0x2A + ((i >> 5) & 1) * 0x15);
        v->dac[i][1] = (uint8_t)(((i >> 1) & 1) * 0x2A + ((i >> 4) & 1) * 0x15);
        v->dac[i][2] = (uint8_t)((i & 1) * 0x2A + ((i >> 3) & 1) * 0x15);
    }
}

void vga_text_init(struct vga_text *v)
{
    vga_text_reset(v);
}

static uint8_t dac_read(struct vga_text *v)
{
    uint8_t val = v->dac[v->dac_read_index][v->dac_component];
    if (++v->dac_component == 3) {
        v->dac_component = 0;
        v->dac_read_index++;
    }
    return val;
}

static void dac_write(struct vga_text *v, uint8_t val)
{
    v->dac[v->dac_write_index][v->dac_component] = val & 0x3F;
    if (++v->dac_component == 3) {
        v->dac_component = 0;
        v->dac_write_index++;
    }
}

uint8_t vga_text_port_read(struct vga_text *v, uint16_t offset)
{
    uint8_t i;
    switch (offset) {
    case P_AR_INDEX:
        return v->ar_index;
    case P_AR_DATA:
        i = v->ar_index & 0x1F;
        return i < VGA_AR_REGS ? v->ar[i] : 0;
    case P_MISC_W:
        return 0x00; /* input status 0: no switch sense, no CRT interrupt */
    case P_SEQ_INDEX:
        return v->seq_index;
    case P_SEQ_DATA:
        return v->seq_index < VGA_SEQ_REGS ? v->seq[v->seq_index] : 0xFF;
    case P_DAC_MASK:
        return v->dac_mask;
    case P_DAC_READ_INDEX:
        return v->dac_reading ? 0x03 : 0x00;
    case P_DAC_WRITE_INDEX:
        return v->dac_write_index;
    case P_DAC_DATA:
        return dac_read(v);
    case P_FEATURE_R:
        return v->feature;
    case P_MISC_R:
        return v->misc;
    case P_GC_INDEX:
        return v->gc_index;
    case P_GC_DATA:
        return v->gc_index < VGA_GC_REGS ? v->gc[v->gc_index] : 0xFF;
    case P_CRTC_INDEX:
        return v->crtc_index;
    case P_CRTC_DATA:
        return v->crtc_index < VGA_CRTC_REGS ? v->crtc[v->crtc_index] : 0xFF;
    case P_STATUS1:
        /* Reading input status 1 also resets the attribute flip-flop to "index". The retrace
         * bits flip per read instead of following a clock: a wait-for-retrace loop ends after
         * one or two reads, and the guest sees the same values on every run. */
        v->ar_data_next = false;
        v->retrace = !v->retrace;
        return v->retrace ? STATUS1_RETRACE : 0x00;
    default:
        return 0xFF;
    }
}

static void crtc_write(struct vga_text *v, uint8_t val)
{
    uint8_t i = v->crtc_index;
    if (i >= VGA_CRTC_REGS)
        return;
    /* CR11 bit 7 protects CR00-CR07, except the line-compare bit 8 (CR07 bit 4). */
    if ((v->crtc[VGA_CR_VSYNC_END] & 0x80) && i <= 0x07) {
        if (i == 0x07)
            v->crtc[i] = (uint8_t)((v->crtc[i] & ~0x10) | (val & 0x10));
        return;
    }
    v->crtc[i] = val;
}

static void ar_write(struct vga_text *v, uint8_t val)
{
    if (!v->ar_data_next) {
        v->ar_index = val & 0x3F;
    } else {
        uint8_t i = v->ar_index & 0x1F;
        if (i < VGA_AR_REGS)
            v->ar[i] = i < 16 ? (val & 0x3F) : val; /* palette entries are 6 bits */
    }
    v->ar_data_next = !v->ar_data_next;
}

void vga_text_port_write(struct vga_text *v, uint16_t offset, uint8_t val)
{
    switch (offset) {
    case P_AR_INDEX:
        ar_write(v, val);
        break;
    case P_MISC_W:
        v->misc = val;
        break;
    case P_SEQ_INDEX:
        v->seq_index = val;
        break;
    case P_SEQ_DATA:
        if (v->seq_index < VGA_SEQ_REGS)
            v->seq[v->seq_index] = val;
        break;
    case P_DAC_MASK:
        v->dac_mask = val;
        break;
    case P_DAC_READ_INDEX:
        v->dac_read_index = val;
        v->dac_component = 0;
        v->dac_reading = true;
        break;
    case P_DAC_WRITE_INDEX:
        v->dac_write_index = val;
        v->dac_component = 0;
        v->dac_reading = false;
        break;
    case P_DAC_DATA:
        dac_write(v, val);
        break;
    case P_GC_INDEX:
        v->gc_index = val;
        break;
    case P_GC_DATA:
        if (v->gc_index < VGA_GC_REGS)
            v->gc[v->gc_index] = val;
        break;
    case P_CRTC_INDEX:
        v->crtc_index = val;
        break;
    case P_CRTC_DATA:
        crtc_write(v, val);
        break;
    case P_STATUS1:
        v->feature = val;
        break;
    default:
        break;
    }
}

/* A word or dword access is its bytes at consecutive ports, low byte first: `outw 0x3D4,
 * (value << 8) | index` sets a CRTC register in one instruction, as drivers do. */
static uint32_t vga_io_read(void *dev, uint16_t off, unsigned size)
{
    uint32_t val = 0;
    for (unsigned i = 0; i < size && i < 4; i++) {
        uint16_t o = (uint16_t)(off + i);
        uint8_t b = o < VGA_IO_LEN ? vga_text_port_read(dev, o) : 0xFF;
        val |= (uint32_t)b << (8 * i);
    }
    return val;
}

static void vga_io_write(void *dev, uint16_t off, uint32_t val, unsigned size)
{
    for (unsigned i = 0; i < size && i < 4; i++) {
        uint16_t o = (uint16_t)(off + i);
        if (o < VGA_IO_LEN)
            vga_text_port_write(dev, o, (uint8_t)(val >> (8 * i)));
    }
}

static const struct io_ops vga_io_ops = {vga_io_read, vga_io_write};

int vga_text_register(struct vga_text *v, struct iobus *bus)
{
    return iobus_register(bus, VGA_IO_BASE, VGA_IO_LEN, &vga_io_ops, v, "vga");
}

/* Attribute colour c -> DAC entry -> 0xRRGGBB, the path the attribute controller takes. */
static uint32_t resolve_colour(const struct vga_text *v, unsigned c)
{
    c &= v->ar[VGA_AR_PLANE_ENABLE] & 0x0F;
    unsigned p = v->ar[c] & 0x3F;
    unsigned sel = v->ar[VGA_AR_COLOR_SELECT];
    if (v->ar[VGA_AR_MODE] & 0x80) /* P5/P4 from the colour select register */
        p = (p & 0x0F) | ((sel & 0x03) << 4);
    unsigned index = (p | ((sel & 0x0C) << 4)) & v->dac_mask;
    uint32_t rgb = 0;
    for (unsigned k = 0; k < 3; k++) {
        unsigned six = v->dac[index][k] & 0x3F;
        rgb = (rgb << 8) | ((six << 2) | (six >> 4));
    }
    return rgb;
}

void vga_text_snapshot(const struct vga_text *v, struct physmem *pm, struct vga_screen *out)
{
    memset(out, 0, sizeof(*out));
    unsigned start = ((unsigned)v->crtc[VGA_CR_START_HI] << 8) | v->crtc[VGA_CR_START_LO];
    const unsigned row_bytes = VGA_TEXT_COLS * 2;
    for (unsigned r = 0; r < VGA_TEXT_ROWS; r++) {
        uint8_t buf[VGA_TEXT_COLS * 2];
        unsigned off = (start * 2 + r * row_bytes) % VGA_TEXT_WINDOW;
        unsigned first = VGA_TEXT_WINDOW - off < row_bytes ? VGA_TEXT_WINDOW - off : row_bytes;
        physmem_read(pm, VGA_TEXT_BASE + off, buf, first);
        if (first < row_bytes)
            physmem_read(pm, VGA_TEXT_BASE, buf + first, row_bytes - first);
        for (unsigned c = 0; c < VGA_TEXT_COLS; c++)
            out->cell[r][c] = (struct vga_cell){buf[2 * c], buf[2 * c + 1]};
    }
    for (unsigned c = 0; c < 16; c++)
        out->palette[c] = resolve_colour(v, c);
    out->blank = !(v->ar_index & VGA_AR_INDEX_PAS);
    out->blink_enabled = (v->ar[VGA_AR_MODE] & 0x08) != 0;
    out->line_graphics = (v->ar[VGA_AR_MODE] & 0x04) != 0;

    unsigned loc = ((unsigned)v->crtc[VGA_CR_CURSOR_HI] << 8) | v->crtc[VGA_CR_CURSOR_LO];
    unsigned rel = (loc - start) % (VGA_TEXT_WINDOW / 2);
    out->cursor_start = v->crtc[VGA_CR_CURSOR_START] & 0x1F;
    out->cursor_end = v->crtc[VGA_CR_CURSOR_END] & 0x1F;
    /* No cursor when disabled (CR0A bit 5), off screen, or starting below its end line. */
    out->cursor_visible = !(v->crtc[VGA_CR_CURSOR_START] & 0x20) &&
                          rel < VGA_TEXT_COLS * VGA_TEXT_ROWS && out->cursor_start <= out->cursor_end;
    if (rel < VGA_TEXT_COLS * VGA_TEXT_ROWS) {
        out->cursor_row = (uint8_t)(rel / VGA_TEXT_COLS);
        out->cursor_col = (uint8_t)(rel % VGA_TEXT_COLS);
    }
}

static void render_cell(const struct vga_screen *s, unsigned r, unsigned c, uint32_t *pixels,
                        size_t pitch, bool blink_on)
{
    struct vga_cell cell = s->cell[r][c];
    unsigned fg = cell.attr & 0x0F, bg = cell.attr >> 4;
    if (s->blink_enabled) {
        bg &= 0x07;
        if ((cell.attr & 0x80) && !blink_on)
            fg = bg;
    }
    uint32_t fgc = s->blank ? 0 : s->palette[fg], bgc = s->blank ? 0 : s->palette[bg];
    bool cursor = s->cursor_visible && blink_on && r == s->cursor_row && c == s->cursor_col;
    /* Box-drawing characters run into the next cell through the 9th dot. */
    bool wide = s->line_graphics && cell.ch >= 0xC0 && cell.ch <= 0xDF;
    const uint8_t *glyph = font8x16[cell.ch];
    for (unsigned y = 0; y < VGA_CELL_H; y++) {
        uint32_t *row = pixels + (size_t)(r * VGA_CELL_H + y) * pitch + c * VGA_CELL_W;
        unsigned bits = (unsigned)glyph[y] << 1;
        if (wide)
            bits |= glyph[y] & 1;
        if (cursor && y >= s->cursor_start && y <= s->cursor_end)
            bits = 0x1FF;
        for (unsigned x = 0; x < VGA_CELL_W; x++)
            row[x] = (bits >> (8 - x)) & 1 ? fgc : bgc;
    }
}

void vga_text_render(const struct vga_screen *s, uint32_t *pixels, size_t pitch, bool blink_on)
{
    for (unsigned r = 0; r < VGA_TEXT_ROWS; r++)
        for (unsigned c = 0; c < VGA_TEXT_COLS; c++)
            render_cell(s, r, c, pixels, pitch, blink_on);
}
