/* TLFS constants: CPUID bits, hypercall input/result fields, status codes, message layouts.
 * Values from the TLFS v2.0A/v6.0b and Linux's hyperv-tlfs.h (see /work/shared/tlfs). */
#ifndef HVEMU_HV_TLFS_H
#define HVEMU_HV_TLFS_H

#include "types.h"

/* CPUID leaves. */
#define HV_CPUID_VENDOR     0x40000000u
#define HV_CPUID_INTERFACE  0x40000001u
#define HV_CPUID_VERSION    0x40000002u
#define HV_CPUID_FEATURES   0x40000003u
#define HV_CPUID_HINTS      0x40000004u
#define HV_CPUID_LIMITS     0x40000005u
#define HV_CPUID_HWFEATURES 0x40000006u
#define HV_CPUID_MAX_LEAF   HV_CPUID_HWFEATURES
#define HV_SIGNATURE_HV1    0x31237648u /* "Hv#1" */

/* 0x40000003 EAX:EBX = the 64-bit partition privilege mask (EBX bits are mask bits 32-63). */
#define HV_PRIV_VP_RUNTIME       0
#define HV_PRIV_TIME_REF_COUNT   1
#define HV_PRIV_SYNIC            2
#define HV_PRIV_STIMER           3
#define HV_PRIV_APIC             4
#define HV_PRIV_HYPERCALL        5
#define HV_PRIV_VP_INDEX         6
#define HV_PRIV_RESET            7
#define HV_PRIV_REF_TSC          9
#define HV_PRIV_GUEST_IDLE       10
#define HV_PRIV_FREQUENCY        11
#define HV_PRIV_TSC_INVARIANT    15
#define HV_PRIV_POST_MESSAGES    (32 + 4)
#define HV_PRIV_SIGNAL_EVENTS    (32 + 5)
#define HV_PRIV_EXT_HYPERCALLS   (32 + 20)
/* 0x40000003 EDX. */
#define HV_MISC_XMM_INPUT        4
#define HV_MISC_FREQUENCY        8
#define HV_MISC_CRASH            10
#define HV_MISC_STIMER_DIRECT    19
/* 0x40000004 EAX. */
#define HV_HINT_REMOTE_TLB_FLUSH 2
#define HV_HINT_APIC_MSRS        3
#define HV_HINT_RELAXED          5
#define HV_HINT_DEPRECATE_AUTOEOI 9
#define HV_HINT_CLUSTER_IPI      10
#define HV_HINT_EX_MASKS         11

/* A feature requirement as one small number: a privilege-mask bit, a misc-feature (EDX) bit,
 * or a hint bit. Tables use these so the access rules follow the CPUID words exactly. */
#define HVF_PRIV(n) (n)
#define HVF_MISC(n) (64 + (n))
#define HVF_HINT(n) (96 + (n))
#define HVF_NONE    255

/* Hypercall input value. */
#define HV_HC_CODE_MASK      0xFFFFull
#define HV_HC_FAST           (1ull << 16)
#define HV_HC_VARHEAD_SHIFT  17
#define HV_HC_VARHEAD_MASK   (0x3FFull << 17)
#define HV_HC_REP_COUNT_SHIFT 32
#define HV_HC_REP_START_SHIFT 48
#define HV_HC_REP_MASK       0xFFFull
#define HV_HC_RSVD_MASK      ((0xFull << 27) | (1ull << 31) | (0xFull << 44) | (0xFull << 60))
/* Result value: reps completed in 43:32. */
#define HV_HC_RESULT_REP_SHIFT 32

/* HV_STATUS: X(name, value). */
#define HV_STATUS_LIST(X)                        \
    X(SUCCESS, 0x0000)                           \
    X(INVALID_HYPERCALL_CODE, 0x0002)            \
    X(INVALID_HYPERCALL_INPUT, 0x0003)           \
    X(INVALID_ALIGNMENT, 0x0004)                 \
    X(INVALID_PARAMETER, 0x0005)                 \
    X(ACCESS_DENIED, 0x0006)                     \
    X(INVALID_PARTITION_STATE, 0x0007)           \
    X(OPERATION_DENIED, 0x0008)                  \
    X(INSUFFICIENT_MEMORY, 0x000B)               \
    X(INVALID_VP_INDEX, 0x000E)                  \
    X(INVALID_PORT_ID, 0x0011)                   \
    X(INVALID_CONNECTION_ID, 0x0012)             \
    X(INSUFFICIENT_BUFFERS, 0x0013)              \
    X(INVALID_SYNIC_STATE, 0x0018)               \
    X(FEATURE_UNAVAILABLE, 0x001E)

enum {
#define HV_STATUS_ENUM(name, val) HV_STATUS_##name = val,
    HV_STATUS_LIST(HV_STATUS_ENUM)
#undef HV_STATUS_ENUM
};

/* VP sets (HV_GENERIC_SET). */
#define HV_GENERIC_SET_SPARSE_4K 0
#define HV_GENERIC_SET_ALL       1
/* HV_FLUSH_FLAGS. */
#define HV_FLUSH_ALL_PROCESSORS            (1ull << 0)
#define HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES (1ull << 1)
#define HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY  (1ull << 2)
#define HV_FLUSH_VALID_MASK                0x7ull

/* SynIC. */
#define HV_SINT_COUNT        16
#define HV_SINT_MASKED       (1ull << 16)
#define HV_SINT_AUTO_EOI     (1ull << 17)
#define HV_SINT_VECTOR(v)    ((uint8_t)((v) & 0xFF))
#define HV_SINT_RESET        HV_SINT_MASKED
#define HV_SYNIC_VERSION     1
#define HV_MESSAGE_SIZE      256
#define HV_MESSAGE_PAYLOAD_MAX 240
#define HV_MESSAGE_PENDING   0x01 /* MessageFlags bit 0 */
#define HV_EVENT_FLAGS_PER_SINT 2048
/* HV_MESSAGE header offsets (Linux order: type, size, flags, reserved, origin). */
#define HV_MSG_OFF_TYPE   0
#define HV_MSG_OFF_SIZE   4
#define HV_MSG_OFF_FLAGS  5
#define HV_MSG_OFF_ORIGIN 8
#define HV_MSG_OFF_PAYLOAD 16
#define HVMSG_NONE          0x00000000u
#define HVMSG_TIMER_EXPIRED 0x80000010u

/* Synthetic timers. */
#define HV_STIMER_COUNT       4
#define HV_STIMER_ENABLE      (1ull << 0)
#define HV_STIMER_PERIODIC    (1ull << 1)
#define HV_STIMER_LAZY        (1ull << 2)
#define HV_STIMER_AUTOENABLE  (1ull << 3)
#define HV_STIMER_VECTOR_SHIFT 4
#define HV_STIMER_DIRECT      (1ull << 12)
#define HV_STIMER_SINT_SHIFT  16
#define HV_STIMER_RSVD_MASK   (~0xF1FFFull) /* 15:13 and 63:20 RsvdZ */

/* Overlay/page MSRs: bit 0 enable, 63:12 GPFN. */
#define HV_PAGE_ENABLE 1ull

/* Crash control. */
#define HV_CRASH_CTL_NOTIFY  (1ull << 63)
#define HV_CRASH_CTL_MESSAGE (1ull << 62)

/* Reference time: 100 ns units. */
#define HV_NS_PER_REF_TICK 100ull
/* APIC timer frequency reported in MSR 0x40000023 (KVM uses the same 1 GHz bus). */
#define HV_APIC_FREQUENCY_HZ 1000000000ull

#endif
