/* A minimal VGA in colour text mode 3 (80x25): the CRT controller, attribute controller, DAC,
 * sequencer and graphics controller registers a text console touches, and a snapshot of the
 * screen (cells, palette, cursor) that a frontend turns into pixels. Guest RAM at 0xB8000 holds
 * the text; the device only decides where the screen starts and how it looks. */
#ifndef HVEMU_VGA_TEXT_H
#define HVEMU_VGA_TEXT_H

#include "devices/iobus.h"
#include "mmu/physmem.h"

#define VGA_IO_BASE 0x3C0 /* 0x3C0-0x3DF: the colour-mode register block */
#define VGA_IO_LEN 0x20
#define VGA_TEXT_BASE 0xB8000ull
#define VGA_TEXT_WINDOW 0x8000u /* the 32 KiB the CPU sees at 0xB8000 in mode 3 */

#define VGA_TEXT_COLS 80
#define VGA_TEXT_ROWS 25
#define VGA_CELL_W 9 /* dots per character clock (mode 3: 720x400) */
#define VGA_CELL_H 16
#define VGA_TEXT_WIDTH (VGA_TEXT_COLS * VGA_CELL_W)
#define VGA_TEXT_HEIGHT (VGA_TEXT_ROWS * VGA_CELL_H)

#define VGA_CRTC_REGS 0x19 /* CR00-CR18 */
#define VGA_SEQ_REGS 0x05
#define VGA_GC_REGS 0x09
#define VGA_AR_REGS 0x15

/* CRT controller registers (IBM VGA technical reference names). */
enum {
    VGA_CR_CURSOR_START = 0x0A, /* bits 0-4 first scan line, bit 5 cursor off */
    VGA_CR_CURSOR_END = 0x0B,   /* bits 0-4 last scan line */
    VGA_CR_START_HI = 0x0C,
    VGA_CR_START_LO = 0x0D,
    VGA_CR_CURSOR_HI = 0x0E,
    VGA_CR_CURSOR_LO = 0x0F,
    VGA_CR_VSYNC_END = 0x11,    /* bit 7 write-protects CR00-CR07 */
};
/* Attribute controller registers. */
enum {
    VGA_AR_MODE = 0x10,         /* bit 2 line graphics, bit 3 blink, bit 7 P5/P4 select */
    VGA_AR_PLANE_ENABLE = 0x12,
    VGA_AR_COLOR_SELECT = 0x14,
};
#define VGA_AR_INDEX_PAS 0x20   /* palette address source: 0 = CPU owns the palette, screen blank */

struct vga_text {
    uint8_t misc;               /* miscellaneous output (0x3C2 write, 0x3CC read) */
    uint8_t feature;            /* feature control (0x3DA write, 0x3CA read) */
    uint8_t crtc_index;
    uint8_t crtc[VGA_CRTC_REGS];
    uint8_t seq_index;
    uint8_t seq[VGA_SEQ_REGS];
    uint8_t gc_index;
    uint8_t gc[VGA_GC_REGS];
    uint8_t ar_index;           /* with VGA_AR_INDEX_PAS */
    bool ar_data_next;          /* the 0x3C0 flip-flop: the next write is data */
    uint8_t ar[VGA_AR_REGS];
    uint8_t dac_mask;           /* 0x3C6 */
    uint8_t dac_write_index, dac_read_index, dac_component;
    bool dac_reading;           /* 0x3C7 reads 3 after a read index was set, else 0 */
    uint8_t dac[256][3];        /* 6-bit R, G, B */
    bool retrace;               /* 0x3DA: flips on every read, so polling loops finish */
};

struct vga_cell {
    uint8_t ch, attr;
};

/* What the screen shows at one moment: enough to draw it without the device. */
struct vga_screen {
    struct vga_cell cell[VGA_TEXT_ROWS][VGA_TEXT_COLS];
    uint32_t palette[16];       /* 0xRRGGBB of attribute colours 0-15 (through AR palette and DAC) */
    bool blank;                 /* palette owned by the CPU (AR index bit 5 clear): all black */
    bool blink_enabled;         /* attribute bit 7 blinks instead of brightening the background */
    bool line_graphics;         /* 9th dot of 0xC0-0xDF repeats the 8th */
    bool cursor_visible;
    uint8_t cursor_row, cursor_col;
    uint8_t cursor_start, cursor_end; /* scan lines within the 16-line cell */
};

/* Power-on state as the VGA BIOS leaves mode 3. */
void vga_text_init(struct vga_text *v);
void vga_text_reset(struct vga_text *v);
int vga_text_register(struct vga_text *v, struct iobus *bus);

/* The register block as seen at port VGA_IO_BASE + offset (byte access). */
uint8_t vga_text_port_read(struct vga_text *v, uint16_t offset);
void vga_text_port_write(struct vga_text *v, uint16_t offset, uint8_t value);

/* Text from guest RAM at 0xB8000 + 2 * start address (wrapping within the 32 KiB window). */
void vga_text_snapshot(const struct vga_text *v, struct physmem *pm, struct vga_screen *out);

/* Draw s into VGA_TEXT_WIDTH x VGA_TEXT_HEIGHT pixels of 0xRRGGBB, pitch in pixels.
 * blink_on is the phase of blinking text and cursor (about 2 Hz on real hardware). */
void vga_text_render(const struct vga_screen *s, uint32_t *pixels, size_t pitch, bool blink_on);

#endif
