/* The built-in 8x16 text font: code page 437 as in the VGA ROM (the glyphs mode 3 shows). */
#ifndef HVEMU_FONT8X16_H
#define HVEMU_FONT8X16_H

#include <stdint.h>

/* font8x16[ch][scan line]: bit 7 is the leftmost dot. */
extern const uint8_t font8x16[256][16];

#endif
