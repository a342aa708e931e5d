#ifndef BUTLER_CFITS_SHIM_H
#define BUTLER_CFITS_SHIM_H
#include <fitsio.h>
#include <zlib.h>

// Why: fits_open_file is a macro over ffopentest that passes the library's soname version,
// so Swift cannot import it; this wrapper makes it callable.
static inline int butler_fits_open_file(fitsfile **fptr, const char *filename, int iomode, int *status) {
    return fits_open_file(fptr, filename, iomode, status);
}

// Why: CFITSIO_VERSION-derived macros are not imported as values; expose the runtime version.
static inline float butler_fits_library_version(void) {
    float version = 0;
    ffvers(&version);
    return version;
}
// Why: cfitsio 4.2 grows its output buffer without bound (tens of GB) on some corrupt GZIP
// tiles. A tile is inflated here first into a buffer of the size it must have; returns 0 when the
// stream is a complete gzip or zlib stream of at most `capacity` bytes, -1 otherwise.
static inline int butler_gzip_tile_is_sound(const unsigned char *input, size_t length, unsigned char *output, size_t capacity) {
    z_stream stream = {0};
    stream.next_in = (unsigned char *)input;
    stream.avail_in = (uInt)length;
    stream.next_out = output;
    stream.avail_out = (uInt)capacity;
    if (inflateInit2(&stream, 15 + 32) != Z_OK) return -1;  // gzip or zlib header
    int result = inflate(&stream, Z_FINISH);
    inflateEnd(&stream);
    return result == Z_STREAM_END ? 0 : -1;
}

/* zlib for PNG previews: one deflate stream, and the CRC of a chunk. */
static inline unsigned long butler_zlib_bound(unsigned long length) { return compressBound(length); }

static inline int butler_zlib_compress(unsigned char *destination, unsigned long *destinationLength,
                                       const unsigned char *source, unsigned long sourceLength, int level) {
    uLongf length = *destinationLength;
    int status = compress2(destination, &length, source, sourceLength, level);
    *destinationLength = length;
    return status;
}

static inline unsigned long butler_crc32(unsigned long crc, const unsigned char *bytes, unsigned int length) {
    return crc32(crc, bytes, length);
}
#endif
