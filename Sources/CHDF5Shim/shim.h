#ifndef BUTLER_CHDF5_SHIM_H
#define BUTLER_CHDF5_SHIM_H
#include <hdf5.h>

// Why: H5T_NATIVE_* expand to (H5open(), H5T_NATIVE_X_g); Swift imports neither the macro
// nor (under strict concurrency) the mutable global, so each is wrapped in a function.
static inline hid_t butler_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t butler_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t butler_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t butler_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t butler_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t butler_h5t_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t butler_h5t_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t butler_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t butler_h5t_c_s1(void) { return H5T_C_S1; }

// Why: property-list classes are H5open()-guarded globals too.
static inline hid_t butler_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t butler_h5p_file_access(void) { return H5P_FILE_ACCESS; }

// Why: the H5F_ACC_* flags are macros that call H5open() before yielding the constant.
static inline unsigned butler_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned butler_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned butler_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
#endif
