/* MC146818 RTC: time kept as (Unix second, virtual ns at which it began) and formatted into the
 * CMOS time bytes on read; interrupts from vtimers; memory size bytes as SeaBIOS reads them.
 * Register layout: Motorola MC146818A data sheet. */
#include "devices/mc146818.h"

#include <string.h>
#include <time.h>

#define NS_PER_SEC 1000000000ull

enum {
    R_SEC = 0x00, R_SEC_ALARM = 0x01, R_MIN = 0x02, R_MIN_ALARM = 0x03, R_HOUR = 0x04,
    R_HOUR_ALARM = 0x05, R_WDAY = 0x06, R_MDAY = 0x07, R_MONTH = 0x08, R_YEAR = 0x09,
    R_A = 0x0a, R_B = 0x0b, R_C = 0x0c, R_D = 0x0d,
};

#define A_UIP  0x80
#define B_SET  0x80
#define B_PIE  0x40
#define B_AIE  0x20
#define B_UIE  0x10
#define B_DM   0x04 /* 1 = binary */
#define B_24H  0x02
#define C_IRQF 0x80
#define C_PF   0x40
#define C_AF   0x20
#define C_UF   0x10
#define D_VRT  0x80

/* Update-in-progress is visible for 244 us before each second's update (data sheet tBUC). */
#define UIP_NS 244000ull

/* Days since 1970-01-01 of a proleptic Gregorian date (civil-from-days inverse). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct civil { int64_t year; unsigned month, mday, wday, hour, min, sec; };

static struct civil civil_from_unix(int64_t t)
{
    struct civil c;
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    c.hour = (unsigned)(rem / 3600);
    c.min = (unsigned)(rem / 60 % 60);
    c.sec = (unsigned)(rem % 60);
    c.wday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    c.mday = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    c.year = yoe + era * 400 + (c.month <= 2);
    return c;
}

static uint64_t now_ns(const struct mc146818 *r)
{
    return vclock_now(r->clock);
}

int64_t rtc_get_time(const struct mc146818 *r)
{
    uint64_t n = now_ns(r);
    uint64_t el = n > r->base_ns ? n - r->base_ns : 0;
    return r->base_sec + (int64_t)(el / NS_PER_SEC);
}

static bool clock_running(const struct mc146818 *r)
{
    /* SET freezes the user copy; a divider chain in reset (DV=11x) stops the clock. */
    return !(r->cmos[R_B] & B_SET) && ((r->cmos[R_A] >> 4) & 7) < 6;
}

static uint8_t fmt(const struct mc146818 *r, unsigned v)
{
    if (r->cmos[R_B] & B_DM)
        return (uint8_t)v;
    return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned unfmt(const struct mc146818 *r, uint8_t v)
{
    if (r->cmos[R_B] & B_DM)
        return v;
    return (unsigned)((v >> 4) * 10 + (v & 0x0f));
}

static uint8_t fmt_hour(const struct mc146818 *r, unsigned h)
{
    if (r->cmos[R_B] & B_24H)
        return fmt(r, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(fmt(r, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned unfmt_hour(const struct mc146818 *r, uint8_t v)
{
    if (r->cmos[R_B] & B_24H)
        return unfmt(r, v);
    return unfmt(r, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

/* Copy the running clock into the time bytes. */
static void refresh_time_bytes(struct mc146818 *r)
{
    struct civil c = civil_from_unix(rtc_get_time(r));
    r->cmos[R_SEC] = fmt(r, c.sec);
    r->cmos[R_MIN] = fmt(r, c.min);
    r->cmos[R_HOUR] = fmt_hour(r, c.hour);
    r->cmos[R_WDAY] = fmt(r, c.wday + 1);
    r->cmos[R_MDAY] = fmt(r, c.mday);
    r->cmos[R_MONTH] = fmt(r, c.month);
    r->cmos[R_YEAR] = fmt(r, (unsigned)(c.year % 100));
    r->cmos[RTC_REG_CENTURY] = fmt(r, (unsigned)(c.year / 100 % 100));
}

static unsigned clampu(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Take the guest-written time bytes as the new time, keeping the phase within the second. */
static void load_time_bytes(struct mc146818 *r, bool keep_phase)
{
    int64_t year = (int64_t)unfmt(r, r->cmos[RTC_REG_CENTURY]) * 100 + unfmt(r, r->cmos[R_YEAR]);
    unsigned month = clampu(unfmt(r, r->cmos[R_MONTH]), 1, 12);
    unsigned mday = clampu(unfmt(r, r->cmos[R_MDAY]), 1, 31);
    int64_t t = days_from_civil(year, month, mday) * 86400 +
                (int64_t)clampu(unfmt_hour(r, r->cmos[R_HOUR]), 0, 23) * 3600 +
                (int64_t)clampu(unfmt(r, r->cmos[R_MIN]), 0, 59) * 60 +
                clampu(unfmt(r, r->cmos[R_SEC]), 0, 59);
    uint64_t n = now_ns(r);
    uint64_t phase = keep_phase && n > r->base_ns ? (n - r->base_ns) % NS_PER_SEC : 0;
    r->base_sec = t;
    r->base_ns = n - phase;
}

static void update_irq(struct mc146818 *r)
{
    uint8_t c = r->cmos[R_C] & 0x70;
    bool level = (c & r->cmos[R_B] & (B_PIE | B_AIE | B_UIE)) != 0;
    r->cmos[R_C] = (uint8_t)(c | (level ? C_IRQF : 0));
    if (level != r->irq_level) {
        r->irq_level = level;
        irq_set(&r->irq, level);
    }
}

/* Periodic rate RS (register A bits 3-0) on the 32.768 kHz time base: period = 2^(RS-1) ticks
 * of 32768 Hz; RS 1 and 2 repeat RS 8 and 9; RS 0 is off. */
static uint64_t periodic_ticks(const struct mc146818 *r)
{
    unsigned rs = r->cmos[R_A] & 0x0f;
    if (rs == 0)
        return 0;
    if (rs <= 2)
        rs += 7;
    return 1ull << (rs - 1);
}

static uint64_t ticks32k_to_ns(uint64_t t)
{
    return (t / 32768) * NS_PER_SEC + ((t % 32768) * NS_PER_SEC + 32767) / 32768;
}

static void arm_periodic(struct mc146818 *r)
{
    uint64_t period = periodic_ticks(r);
    if (!(r->cmos[R_B] & B_PIE) || !period || ((r->cmos[R_A] >> 4) & 7) >= 6) {
        vtimer_cancel(r->clock, &r->periodic_timer);
        return;
    }
    /* Phase-locked to virtual time 0, so the rate never drifts. */
    uint64_t n = now_ns(r);
    uint64_t tick = (n / NS_PER_SEC) * 32768 + (n % NS_PER_SEC) * 32768 / NS_PER_SEC;
    vtimer_arm(r->clock, &r->periodic_timer, ticks32k_to_ns((tick / period + 1) * period));
}

static void periodic_fire(void *opaque, uint64_t now)
{
    struct mc146818 *r = opaque;
    r->cmos[R_C] |= C_PF;
    update_irq(r);
    arm_periodic(r);
}

static void arm_update(struct mc146818 *r)
{
    if (!(r->cmos[R_B] & (B_UIE | B_AIE)) || !clock_running(r)) {
        vtimer_cancel(r->clock, &r->update_timer);
        return;
    }
    uint64_t n = now_ns(r);
    uint64_t el = n > r->base_ns ? n - r->base_ns : 0;
    vtimer_arm(r->clock, &r->update_timer, r->base_ns + (el / NS_PER_SEC + 1) * NS_PER_SEC);
}

static bool alarm_match(uint8_t alarm, uint8_t cur)
{
    return (alarm & 0xc0) == 0xc0 || alarm == cur; /* 11xxxxxx is "don't care" */
}

static void update_fire(void *opaque, uint64_t now)
{
    struct mc146818 *r = opaque;
    if (!clock_running(r))
        return;
    refresh_time_bytes(r);
    r->cmos[R_C] |= C_UF;
    if (alarm_match(r->cmos[R_SEC_ALARM], r->cmos[R_SEC]) &&
        alarm_match(r->cmos[R_MIN_ALARM], r->cmos[R_MIN]) &&
        alarm_match(r->cmos[R_HOUR_ALARM], r->cmos[R_HOUR]))
        r->cmos[R_C] |= C_AF;
    update_irq(r);
    arm_update(r);
}

/* PF and UF are set at every period / update even with their interrupts disabled; only enabled
 * sources run timers, so a guest polling C gets the others computed from the time elapsed
 * since its last read. */
static uint8_t polled_flags(const struct mc146818 *r)
{
    uint8_t f = 0;
    uint64_t n = now_ns(r), last = r->c_read_ns;
    if (clock_running(r)) {
        uint64_t s0 = last > r->base_ns ? (last - r->base_ns) / NS_PER_SEC : 0;
        uint64_t s1 = n > r->base_ns ? (n - r->base_ns) / NS_PER_SEC : 0;
        if (s1 > s0)
            f |= C_UF;
    }
    uint64_t period = periodic_ticks(r);
    if (period && ((r->cmos[R_A] >> 4) & 7) < 6) {
        uint64_t t0 = (last / NS_PER_SEC) * 32768 + (last % NS_PER_SEC) * 32768 / NS_PER_SEC;
        uint64_t t1 = (n / NS_PER_SEC) * 32768 + (n % NS_PER_SEC) * 32768 / NS_PER_SEC;
        if (t1 / period > t0 / period)
            f |= C_PF;
    }
    return f;
}

static bool is_time_reg(unsigned i)
{
    return i <= R_YEAR || i == RTC_REG_CENTURY;
}

static uint8_t cmos_read(struct mc146818 *r)
{
    unsigned i = r->index;
    uint8_t v;
    if (is_time_reg(i)) {
        if (clock_running(r))
            refresh_time_bytes(r);
        return r->cmos[i];
    }
    switch (i) {
    case R_A: {
        v = r->cmos[R_A] & 0x7f;
        uint64_t n = now_ns(r);
        uint64_t el = n > r->base_ns ? n - r->base_ns : 0;
        if (clock_running(r) && el % NS_PER_SEC >= NS_PER_SEC - UIP_NS)
            v |= A_UIP;
        return v;
    }
    case R_C:
        v = (uint8_t)(r->cmos[R_C] | polled_flags(r));
        r->c_read_ns = now_ns(r);
        r->cmos[R_C] = 0;
        update_irq(r);
        return v;
    default:
        return r->cmos[i];
    }
}

static void cmos_write(struct mc146818 *r, uint8_t v)
{
    unsigned i = r->index;
    if (is_time_reg(i)) {
        bool running = clock_running(r);
        if (running)
            refresh_time_bytes(r);
        r->cmos[i] = v;
        /* Alarm bytes are plain storage; a time byte written while running takes effect now. */
        if (running && i != R_SEC_ALARM && i != R_MIN_ALARM && i != R_HOUR_ALARM)
            load_time_bytes(r, true);
        arm_update(r);
        return;
    }
    switch (i) {
    case R_A: {
        bool was_running = clock_running(r);
        r->cmos[R_A] = v & 0x7f; /* UIP is read-only */
        if (was_running && !clock_running(r))
            refresh_time_bytes(r);
        else if (!was_running && clock_running(r))
            load_time_bytes(r, false);
        arm_periodic(r);
        arm_update(r);
        break;
    }
    case R_B: {
        bool was_running = clock_running(r);
        bool will_run = !(v & B_SET) && ((r->cmos[R_A] >> 4) & 7) < 6;
        if (was_running)
            refresh_time_bytes(r);
        else if (will_run)
            load_time_bytes(r, false); /* bytes are in the format they were written in */
        if (v & B_SET)
            v &= (uint8_t)~B_UIE; /* SET clears UIE (data sheet) */
        r->cmos[R_B] = v;
        update_irq(r);
        arm_periodic(r);
        arm_update(r);
        break;
    }
    case R_C:
    case R_D: /* read-only */
        break;
    default:
        r->cmos[i] = v;
        break;
    }
}

static uint32_t rtc_io_read(void *dev, uint16_t off, unsigned size)
{
    struct mc146818 *r = dev;
    if (off == 0)
        return 0xff; /* the index register is write-only */
    return cmos_read(r);
}

static void rtc_io_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct mc146818 *r = dev;
    if (off == 0) {
        r->index = v & 0x7f;
        r->nmi_masked = (v & 0x80) != 0;
    } else {
        cmos_write(r, (uint8_t)v);
    }
}

static const struct io_ops rtc_ops = {rtc_io_read, rtc_io_write};

static void put16(uint8_t *c, unsigned lo, unsigned hi, uint64_t v)
{
    if (v > 0xffff)
        v = 0xffff;
    c[lo] = (uint8_t)v;
    c[hi] = (uint8_t)(v >> 8);
}

/* Memory size bytes as QEMU's pc_cmos_init fills them and SeaBIOS reads them. */
static void set_memory_bytes(struct mc146818 *r)
{
    uint8_t *c = r->cmos;
    uint64_t below = r->cfg.ram_below_4g, above = r->cfg.ram_above_4g;
    const uint64_t mb = 1024 * 1024;
    put16(c, 0x15, 0x16, 640);
    uint64_t ext = below > mb ? (below - mb) / 1024 : 0;
    put16(c, 0x17, 0x18, ext);
    put16(c, 0x30, 0x31, ext);
    put16(c, 0x34, 0x35, below > 16 * mb ? (below - 16 * mb) / 65536 : 0);
    uint64_t high = above / 65536;
    if (high > 0xffffff)
        high = 0xffffff;
    c[0x5b] = (uint8_t)high;
    c[0x5c] = (uint8_t)(high >> 8);
    c[0x5d] = (uint8_t)(high >> 16);
    c[0x5f] = (uint8_t)(r->cfg.ncpus ? r->cfg.ncpus - 1 : 0);
    /* Standard CMOS checksum over 0x10-0x2D, big-endian at 0x2E. */
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; i++)
        sum += c[i];
    c[0x2e] = (uint8_t)(sum >> 8);
    c[0x2f] = (uint8_t)sum;
}

void rtc_reset(struct mc146818 *r)
{
    /* Reset leaves time and CMOS memory alone but clears interrupt enables and flags. */
    r->cmos[R_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | 0x08);
    r->cmos[R_C] = 0;
    r->cmos[R_D] = D_VRT;
    r->c_read_ns = now_ns(r);
    update_irq(r);
    arm_periodic(r);
    arm_update(r);
}

void rtc_init(struct mc146818 *r, struct vclock *clock, const struct irq_line *irq,
              const struct rtc_config *cfg)
{
    memset(r, 0, sizeof(*r));
    r->clock = clock;
    if (irq)
        r->irq = *irq;
    if (cfg)
        r->cfg = *cfg;
    vtimer_init(&r->periodic_timer, periodic_fire, r);
    vtimer_init(&r->update_timer, update_fire, r);
    r->cmos[R_A] = 0x26;          /* 32.768 kHz time base, 1024 Hz periodic rate */
    r->cmos[R_B] = B_24H;         /* BCD, 24-hour, as PC firmware leaves it */
    r->cmos[R_D] = D_VRT;
    r->cmos[0x10] = 0x00;         /* no floppy drives */
    r->cmos[0x14] = 0x06;         /* equipment: FPU present, VGA (mode bits 00), no floppies */
    if (r->cfg.host_time)
        r->base_sec = (int64_t)time(NULL);
    else
        r->base_sec = r->cfg.start_time ? r->cfg.start_time : RTC_DEFAULT_EPOCH;
    r->base_ns = vclock_now(clock);
    set_memory_bytes(r);
    refresh_time_bytes(r);
}

int rtc_register(struct mc146818 *r, struct iobus *bus)
{
    return iobus_register(bus, RTC_BASE, 2, &rtc_ops, r, "rtc");
}

bool rtc_nmi_masked(const struct mc146818 *r)
{
    return r->nmi_masked;
}
