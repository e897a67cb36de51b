/* COM1 console and a small printf (%s %c %d %i %u %x %X %p %%, l/ll/z, width, zero padding). */
#include "guest.h"

#define COM_DATA 0
#define COM_IER  1
#define COM_FCR  2
#define COM_LCR  3
#define COM_MCR  4
#define COM_LSR  5
#define LSR_THRE 0x20

void serial_init(void)
{
    outb(PORT_COM1 + COM_IER, 0x00);
    outb(PORT_COM1 + COM_LCR, 0x80); /* DLAB: divisor 1 = 115200 baud */
    outb(PORT_COM1 + COM_DATA, 0x01);
    outb(PORT_COM1 + COM_IER, 0x00);
    outb(PORT_COM1 + COM_LCR, 0x03); /* 8N1 */
    outb(PORT_COM1 + COM_FCR, 0xC7);
    outb(PORT_COM1 + COM_MCR, 0x03); /* DTR, RTS; OUT2 stays off: no interrupts wanted */
}

void serial_putc(char c)
{
    /* Bounded wait: a missing or stuck UART must not hang the guest. */
    for (unsigned i = 0; i < 100000; i++)
        if (inb(PORT_COM1 + COM_LSR) & LSR_THRE)
            break;
    outb(PORT_COM1 + COM_DATA, (uint8_t)c);
}

void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

struct sink {
    char *buf;   /* NULL: write to the serial port */
    size_t size;
    size_t len;
};

static void emit(struct sink *k, char c)
{
    if (!k->buf)
        serial_putc(c);
    else if (k->len + 1 < k->size)
        k->buf[k->len] = c;
    k->len++;
}

/* v /= base, returning the remainder: by shifts and subtractions, because 32-bit guests have
 * no libgcc for 64-bit division. */
static unsigned divmod_small(unsigned long long *v, unsigned base)
{
    unsigned long long q = 0, r = 0;
    for (int b = 63; b >= 0; b--) {
        r = (r << 1) | ((*v >> b) & 1);
        if (r >= base) {
            r -= base;
            q |= 1ull << b;
        }
    }
    *v = q;
    return (unsigned)r;
}

static void emit_num(struct sink *k, unsigned long long v, unsigned base, bool upper, bool neg,
                     unsigned width, char pad)
{
    char tmp[24];
    unsigned n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[divmod_small(&v, base)];
    } while (v);
    unsigned total = n + (neg ? 1 : 0);
    if (neg && pad == '0')
        emit(k, '-');
    for (; total < width; total++)
        emit(k, pad);
    if (neg && pad != '0')
        emit(k, '-');
    while (n)
        emit(k, tmp[--n]);
}

static void format(struct sink *k, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(k, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        unsigned width = 0, lng = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            lng++;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            /* %ld is long (4 bytes in a 32-bit guest), %lld and %zd are long long / size_t. */
            long long v = lng >= 2 || (lng && sizeof(long) == 8) ? va_arg(ap, long long)
                          : lng ? va_arg(ap, long) : va_arg(ap, int);
            unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            emit_num(k, mag, 10, false, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v = lng >= 2 || (lng && sizeof(long) == 8)
                                       ? va_arg(ap, unsigned long long)
                                   : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            emit_num(k, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', false, width, pad);
            break;
        }
        case 'p':
            emit(k, '0');
            emit(k, 'x');
            emit_num(k, (uintptr_t)va_arg(ap, void *), 16, false, false, width, pad);
            break;
        case 'c':
            emit(k, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t n = strlen(s);
            for (; n < width; n++)
                emit(k, ' ');
            while (*s)
                emit(k, *s++);
            break;
        }
        case '%':
            emit(k, '%');
            break;
        case '\0':
            return;
        default:
            emit(k, '%');
            emit(k, *fmt);
            break;
        }
    }
}

int vprintf(const char *fmt, va_list ap)
{
    struct sink k = {NULL, 0, 0};
    format(&k, fmt, ap);
    return (int)k.len;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    struct sink k = {buf, size, 0};
    va_list ap;
    va_start(ap, fmt);
    format(&k, fmt, ap);
    va_end(ap);
    if (size)
        buf[k.len < size ? k.len : size - 1] = '\0';
    return (int)k.len;
}
