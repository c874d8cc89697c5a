#!/usr/bin/env bash
# Installs the Debian packages Myriad needs to build, test and run, skipping what is present.
# Called by `make run` and `make test`; safe to run again. Needs root or sudo for apt-get.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libyaml-dev            # config parsing (static archive linked: GPU hosts lack the runtime)
  libhdf5-dev hdf5-tools # output files, h5ls/h5dump for the tour and schema tests
  zlib1g-dev             # deflating HDF5 chunks on all threads (libhdf5-dev brings it too)
  libssl-dev             # SHA-256 state hash (libcrypto, linked statically)
  libomp-dev             # OpenMP runtime headers for clang builds; gcc brings libgomp
  libopenmpi-dev openmpi-bin # mpirun launch for multi-process runs
  gnuplot-nox            # benchmark charts
  python3-h5py           # the README tour reads results with h5py
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
