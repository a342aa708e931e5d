// The C ABI's types and declarations live in include/butler.h; the functions are Swift
// (`@_cdecl`, Sources/ButlerC). This file only makes the header a module the Swift side imports,
// so both sides share one definition of butler_plane and the status codes.
#include "butler.h"
