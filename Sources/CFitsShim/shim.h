#ifndef BUTLER_CFITS_SHIM_H
#define BUTLER_CFITS_SHIM_H
#include <fitsio.h>

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
#endif
