#ifndef BUTLER_CHECKSUM_H
#define BUTLER_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

// CRC-32C (Castagnoli, iSCSI's): the artifact checksum chosen by measurement (BENCHMARKS.md,
// issue 14) — with the SSE 4.2 `crc32` instruction a 201 MB image checksums in 42 ms, SHA-256
// with the SHA extensions in 148 ms. `crc` is a previous result (0 to
// start), so a file is checksummed chunk by chunk.
uint32_t butler_crc32c(uint32_t crc, const void *data, size_t length);

// The same by the bitwise definition, for machines without the instruction and for the test
// that holds the fast path to it.
uint32_t butler_crc32c_portable(uint32_t crc, const void *data, size_t length);

#endif
