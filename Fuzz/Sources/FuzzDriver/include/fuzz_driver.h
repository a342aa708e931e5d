#ifndef BUTLER_FUZZ_DRIVER_H
#define BUTLER_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver on `test` with the process's arguments. A debug build of a SwiftPM
/// executable gets its entry point renamed (`<Target>_main`) and libFuzzer's own `main` is then
/// not linked, so each target's entry point calls this instead.
int butler_fuzz_run(int argc, char **argv, int (*test)(const uint8_t *data, size_t size));
#endif
