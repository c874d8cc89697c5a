#!/usr/bin/env bash
# Makes .gpu/, a copy of a CUDA build small enough to carry to a GPU machine (the device
# tool's 64 MiB limit): executables, ctest files and generated headers, without object files
# or the example test's scratch folders. On the GPU machine, link it back where ctest expects
# it:  mkdir -p /work && ln -sfn "$PWD" /work/main && ln -sfn "$PWD/.gpu" /work/main/build-cuda
#   scripts/gpu_carry.sh [BUILD_DIR]     (default build-cuda)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-cuda}
rm -rf "$root/.gpu"
mkdir -p "$root/.gpu"
# ctest files, generated headers, the myriad binary, benchmarks, and only the GPU tests'
# executables (the cpu-label tests run here and in CI, not there).
(cd "$build" && find . -type f \
   ! -path './CMakeFiles/*' ! -path '*/CMakeFiles/*' ! -path '*.work/*' ! -name '*.a' ! -name '*.o' \
   \( -name 'CTestTestfile.cmake' -o -path './generated/*' -o -path './myriad' -o -path './benchmarks/*' \
      -o -path './tests/gpu/*' -o -name '*_gpu' \) \
   -exec cp --parents -p {} "$root/.gpu/" \;)
# the scratch folders script tests run in (ctest refuses a test whose folder is missing)
(cd "$build" && find . -type d -name '*.work' ! -path '*/CMakeFiles/*' -exec mkdir -p "$root/.gpu/{}" \;)
du -sh "$root/.gpu"
