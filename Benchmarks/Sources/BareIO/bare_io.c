#define _GNU_SOURCE
#include <math.h>
#include "bare_io.h"
#include <fcntl.h>
#include <fitsio.h>
#include <hdf5.h>
#include <unistd.h>

int bare_fits_read_planes(const char *path, long x0, long y0, long x1, long y1,
                          float *image, int *mask, float *variance) {
    fitsfile *file = NULL;
    int status = 0, type = 0, anynull = 0;
    long lower[2] = {x0, y0}, upper[2] = {x1, y1}, step[2] = {1, 1};
    fits_open_file(&file, path, READONLY, &status);
    fits_movabs_hdu(file, 2, &type, &status);
    fits_read_subset(file, TFLOAT, lower, upper, step, NULL, image, &anynull, &status);
    fits_movabs_hdu(file, 3, &type, &status);
    fits_read_subset(file, TINT, lower, upper, step, NULL, mask, &anynull, &status);
    fits_movabs_hdu(file, 4, &type, &status);
    fits_read_subset(file, TFLOAT, lower, upper, step, NULL, variance, &anynull, &status);
    int closeStatus = 0;
    if (file) fits_close_file(file, &closeStatus);
    return status ? status : closeStatus;
}

int bare_fits_read_image_keys(const char *path, const char *const *keys, int count, double *values) {
    fitsfile *file = NULL;
    int status = 0;
    fits_open_image(&file, path, READONLY, &status);
    for (int index = 0; index < count && status == 0; index++) {
        values[index] = 0;
        fits_read_key(file, TDOUBLE, keys[index], &values[index], NULL, &status);
        if (status == KEY_NO_EXIST) status = 0;
    }
    int closeStatus = 0;
    if (file) fits_close_file(file, &closeStatus);
    return status ? status : closeStatus;
}

static int read_plane(hid_t file, const char *name, hid_t type, long x0, long y0, long width, long height, void *out) {
    hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dataset < 0) return -1;
    hid_t space = H5Dget_space(dataset);
    hsize_t start[2] = {(hsize_t)y0, (hsize_t)x0}, count[2] = {(hsize_t)height, (hsize_t)width};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t memory = H5Screate_simple(2, count, NULL);
    herr_t status = H5Dread(dataset, type, memory, space, H5P_DEFAULT, out);
    H5Sclose(memory);
    H5Sclose(space);
    H5Dclose(dataset);
    return status < 0 ? -1 : 0;
}

static int read_attribute(hid_t file, const char *object, const char *name, hid_t type, void *out) {
    hid_t attribute = H5Aopen_by_name(file, object, name, H5P_DEFAULT, H5P_DEFAULT);
    if (attribute < 0) return -1;
    herr_t status = H5Aread(attribute, type, out);
    H5Aclose(attribute);
    return status < 0 ? -1 : 0;
}

int bare_h5_read_component_keys(const char *path, double *values) {
    hid_t access = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_file_locking(access, 0, 1);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, access);
    H5Pclose(access);
    if (file < 0) return -1;
    int status = read_attribute(file, "/wcs", "crpix", H5T_NATIVE_DOUBLE, values);
    status |= read_attribute(file, "/wcs", "crval", H5T_NATIVE_DOUBLE, values + 2);
    status |= read_attribute(file, "/wcs", "cd", H5T_NATIVE_DOUBLE, values + 4);
    long long xy0[2] = {0, 0};
    status |= read_attribute(file, "/", "xy0", H5T_NATIVE_LLONG, xy0);
    values[8] = (double)xy0[0];
    values[9] = (double)xy0[1];
    hid_t dataset = H5Dopen2(file, "/image", H5P_DEFAULT);
    if (dataset >= 0) {
        hid_t space = H5Dget_space(dataset);
        hsize_t dims[2] = {0, 0};
        H5Sget_simple_extent_dims(space, dims, NULL);
        values[10] = (double)dims[1];
        values[11] = (double)dims[0];
        H5Sclose(space);
        H5Dclose(dataset);
    } else {
        status = -1;
    }
    H5Fclose(file);
    return status;
}

int bare_h5_read_planes(const char *path, long x0, long y0, long width, long height,
                        float *image, int *mask, float *variance) {
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) return -1;
    int status = read_plane(file, "/image", H5T_NATIVE_FLOAT, x0, y0, width, height, image);
    status |= read_plane(file, "/mask", H5T_NATIVE_INT32, x0, y0, width, height, mask);
    status |= read_plane(file, "/variance", H5T_NATIVE_FLOAT, x0, y0, width, height, variance);
    H5Fclose(file);
    return status;
}

long bare_read_file(const char *path, char *buffer, long capacity) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buffer + total, (size_t)(capacity - total));
        if (n <= 0) break;
        total += n;
        if (total == capacity) break;
    }
    close(fd);
    return total;
}

int bare_syncfs(int fd) { return syncfs(fd); }

void bare_rings_find_tract(const double *lon, const double *lat, long count, int num_rings, double ring_size,
                           double ra_start, const long *ring_counts, const long *ring_starts, long tract_count,
                           int version0, long *ids) {
    const double first_ring_start = ring_size * 0.5 - 0.5 * M_PI;
    for (long i = 0; i < count; ++i) {
        if (lat[i] < first_ring_start) { ids[i] = 0; continue; }
        if (lat[i] > -first_ring_start) { ids[i] = tract_count - 1; continue; }
        int ring = (int)((lat[i] - first_ring_start) / ring_size);
        if (ring > num_rings - 1) ring = num_rings - 1;
        long n = ring_counts[ring];
        double delta = fmod(lon[i] - ra_start, 2 * M_PI);
        if (delta < 0) delta += 2 * M_PI;
        long number = (long)(delta / (2 * M_PI / (double)n) + 0.5);
        if (number == n) number = 0;
        if (version0 && number == 0 && ring != 0) ring += 1;
        ids[i] = ring_starts[ring] + number + 1;
    }
}

void bare_pack_ids(const long *observation, const long *detector, long count, long detector_count, long *packed) {
    for (long i = 0; i < count; ++i) packed[i] = detector[i] + detector_count * observation[i];
}
