#ifndef BARE_IO_H
#define BARE_IO_H
// The physical limit for image reads: the same reads done with cfitsio and HDF5 directly,
// without any Butler, formatter or Swift code in between.

/// Reads image, mask and variance (HDUs 2–4, 1-based) of a FITS file inside the inclusive
/// 1-based box [x0, x1] × [y0, y1] into the three buffers. Returns the cfitsio status.
int bare_fits_read_planes(const char *path, long x0, long y0, long x1, long y1,
                          float *image, int *mask, float *variance);

/// Reads /image, /mask, /variance of an HDF5 file inside the 0-based box starting at
/// (x0, y0) of width × height. Returns 0 on success.
int bare_h5_read_planes(const char *path, long x0, long y0, long width, long height,
                        float *image, int *mask, float *variance);

/// Opens a FITS file at its first HDU holding an image (`fits_open_image`) and reads `count`
/// numeric header keywords into `values` (0 for a missing keyword) — what a component read
/// such as a WCS or a bounding box needs at the least. Returns the cfitsio status.
int bare_fits_read_image_keys(const char *path, const char *const *keys, int count, double *values);

/// Reads what a WCS and a bounding box come from in one of our HDF5 exposure files — the
/// `/wcs` attributes crpix, crval, cd, the root attribute xy0 and the `/image` dimensions —
/// into `values` (12 numbers). File locking is off, as in the Butler's reader. Returns 0.
int bare_h5_read_component_keys(const char *path, double *values);

/// Reads a whole file with read(2) into a buffer of `capacity` bytes; returns bytes read.
long bare_read_file(const char *path, char *buffer, long capacity);

/// The limit for a rings skymap's tract lookup: lsst.skymap's ring arithmetic (ring from the
/// latitude, tract in the ring from the longitude, version-0 numbering when `version0`) in
/// plain C over `count` points (radians), tract IDs into `ids`.
void bare_rings_find_tract(const double *lon, const double *lat, long count, int num_rings, double ring_size,
                           double ra_start, const long *ring_counts, const long *ring_starts, long tract_count,
                           int version0, long *ids);

/// The limit for packing data IDs: `packed[i] = detector[i] + detector_count * observation[i]`.
void bare_pack_ids(const long *observation, const long *detector, long count, long detector_count, long *packed);

/// syncfs(2) of the file system holding the open descriptor `fd` (a GNU extension Swift's
/// Glibc module does not declare).
int bare_syncfs(int fd);
#endif
