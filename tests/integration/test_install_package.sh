# `cmake --install` gives a package that another project finds with find_package(medkd).
source "$(dirname "$0")/lib.sh"
BUILD_DIR=$(dirname "$(dirname "$MEDKD")")
SOURCE_DIR="$(cd "$(dirname "$0")/../.." && pwd)"
cmake --install "$BUILD_DIR" --prefix "$SCRATCH/prefix" >"$SCRATCH/install.log" 2>&1 || fail "cmake --install failed"
[ -f "$SCRATCH/prefix/lib/cmake/medkd/medkdConfig.cmake" ] || [ -n "$(find "$SCRATCH/prefix" -name medkdConfig.cmake)" ] || fail "no medkdConfig.cmake installed"
[ -x "$SCRATCH/prefix/bin/medkd" ] || fail "medkd binary not installed"
[ -f "$SCRATCH/prefix/include/medkd/io/image_io.h" ] || fail "headers not installed"
cmake -S "$SOURCE_DIR/tests/install_consumer" -B "$SCRATCH/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$SCRATCH/prefix" >"$SCRATCH/configure.log" 2>&1 || { fail "consumer configure failed"; tail -20 "$SCRATCH/configure.log" >&2; }
cmake --build "$SCRATCH/consumer" >"$SCRATCH/build.log" 2>&1 || { fail "consumer build failed"; tail -20 "$SCRATCH/build.log" >&2; }
expect_exit 0 "Dice 1" -- "$SCRATCH/consumer/consumer" "$SCRATCH/x.nii.gz"
finish
