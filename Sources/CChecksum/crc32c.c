// CRC-32C with the SSE 4.2 instruction where the CPU has it, the bitwise definition elsewhere.
// Why C: the instruction is an intrinsic Swift cannot name.
#include "butler_checksum.h"

#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *bytes, size_t length) {
    uint64_t state = crc;
    while (length > 0 && ((uintptr_t)bytes & 7) != 0) {
        state = _mm_crc32_u8((uint32_t)state, *bytes++);
        length--;
    }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        state = _mm_crc32_u64(state, word);
        bytes += 8;
        length -= 8;
    }
    while (length > 0) {
        state = _mm_crc32_u8((uint32_t)state, *bytes++);
        length--;
    }
    return (uint32_t)state;
}
#endif

static uint32_t crc32c_bitwise(uint32_t crc, const unsigned char *bytes, size_t length) {
    while (length-- > 0) {
        crc ^= *bytes++;
        for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return crc;
}

uint32_t butler_crc32c(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) return ~crc32c_sse42(~crc, data, length);
#endif
    return ~crc32c_bitwise(~crc, data, length);
}

uint32_t butler_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    return ~crc32c_bitwise(~crc, data, length);
}
