#!/usr/bin/env bash
# The bindings' tests, run by scripts/test.sh after `swift test`: builds libSwiftButler.so, then
#  - the C ABI test (Bindings/tests/test_c_abi.c, gcc -Wall -Wextra -Werror) on SQLite and, when
#    BUTLER_TEST_POSTGRES_URL is set, PostgreSQL; once under valgrind for leaks and memory errors;
#  - the C++ layer's test, examples/cpp/cutout.cpp and the README's C++ example (g++ -std=c++17);
#  - the Python package: pip-installed into the reference environment, its pytest suite (which
#    runs the README's Python example) on both engines.
#   bash scripts/test-bindings.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."

configuration=${1:-debug}
swift build -c "$configuration" --product SwiftButler
library_dir=$(swift build -c "$configuration" --show-bin-path)
work=$(mktemp -d /tmp/butler-bindings.XXXXXX)
trap 'rm -rf "$work"' EXIT

flags=(-ISources/CButlerABI/include -IBindings/cpp -L"$library_dir" -lSwiftButler -Wl,-rpath,"$library_dir" -lpthread)

echo "== C ABI"
gcc -std=c11 -Wall -Wextra -Werror Bindings/tests/test_c_abi.c "${flags[@]}" -o "$work/test_c_abi"
BUTLER_TEST_POSTGRES_URL='' "$work/test_c_abi" "$work/c-sqlite" | tail -1
if [ -n "${BUTLER_TEST_POSTGRES_URL:-}" ]; then "$work/test_c_abi" "$work/c-postgres" | tail -1; fi

echo "== C ABI under valgrind (leaks: definitely lost must be 0; memory errors: none)"
if ! command -v valgrind >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi
# valgrind 3.19 cannot read the DWARF 5 the Swift toolchain emits: it runs a copy without it.
mkdir -p "$work/stripped"
cp "$library_dir/libSwiftButler.so" "$work/stripped/"
strip --strip-debug "$work/stripped/libSwiftButler.so"
gcc -std=c11 -Wall -Werror Bindings/tests/test_c_abi.c -ISources/CButlerABI/include -L"$work/stripped" -lSwiftButler \
  -Wl,-rpath,"$work/stripped" -lpthread -o "$work/test_c_abi_valgrind"
BUTLER_TEST_POSTGRES_URL='' valgrind -q --suppressions=Bindings/tests/valgrind.supp --leak-check=full \
  --errors-for-leak-kinds=definite --show-leak-kinds=definite --error-exitcode=3 \
  "$work/test_c_abi_valgrind" "$work/c-valgrind" | tail -1

echo "== C++"
g++ -std=c++17 -Wall -Wextra -Werror Bindings/tests/test_cpp.cpp "${flags[@]}" -o "$work/test_cpp"
"$work/test_cpp" "$work/cpp-repo"
g++ -std=c++17 -Wall -Wextra -Werror examples/cpp/cutout.cpp "${flags[@]}" -o "$work/cutout"
"$work/cutout" "$work/cpp-repo" '{"instrument": "Cam", "detector": 7}'
# The README's C++ example, as written, inside a main that names the repository.
{
  echo '#include <cstdio>'
  echo '#include <string>'
  echo '#include "butler.hpp"'
  echo 'int main(int argc, char **argv) {'
  echo '    if (argc != 2) return 2;'
  echo '    const std::string repo = argv[1];'
  awk '/<!-- cpp-example -->/{found=1; next} found && /^```cpp/{inside=1; next} inside && /^```/{exit} inside{print "    " $0}' README.md
  echo '    return 0;'
  echo '}'
} > "$work/readme_example.cpp"
g++ -std=c++17 -Wall -Wextra -Werror "$work/readme_example.cpp" "${flags[@]}" -o "$work/readme_example"
"$work/readme_example" "$work/cpp-repo"

echo "== Python"
python=$(bash scripts/daf-butler-env.sh)
# From a copy: setuptools builds in the source tree, and the clone stays as it was.
cp -r python "$work/python-package"
"$python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$work/python-package"
# From the work directory, so that the installed package (not the checkout's) is imported.
(cd "$work" && SWIFT_BUTLER_LIBRARY="$library_dir/libSwiftButler.so" "$python" -m pytest -q -p no:cacheprovider \
  "$OLDPWD/python/tests")
