#ifndef BUTLER_CHECKSUM_H
#define BUTLER_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

// CRC-32C (Castagnoli, iSCSI's): the artifact checksum chosen by measurement (BENCHMARKS.md,
// issue 14) — the SSE 4.2 `crc32` instruction runs it at memory speed, where SHA-256 with the
// SHA extensions reads a 192 MiB image several times slower. `crc` is a previous result (0 to
// start), so a file is checksummed chunk by chunk.
uint32_t butler_crc32c(uint32_t crc, const void *data, size_t length);

// The same by the bitwise definition, for machines without the instruction and for the test
// that holds the fast path to it.
uint32_t butler_crc32c_portable(uint32_t crc, const void *data, size_t length);

#endif
