#!/usr/bin/env bash
# Installs every build and run dependency of medkd from Debian 12 packages.
# Idempotent: when everything is present it only checks and returns (about a second).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev               # LibTorch 1.13 (CPU)
  libinsighttoolkit5-dev     # ITK 5.2: image I/O, DICOM, distance maps
  libyaml-cpp-dev            # YAML configs and dataset.json
  nlohmann-json3-dev         # JSON writing
  libcli11-dev               # command line
  libgtest-dev               # tests
  libboost-dev               # Boost.Math distributions
  libopenblas0-pthread       # fast BLAS for LibTorch's matrix products
  zlib1g-dev                 # gzip checks; PNG images in the experiment report
  mricron-data               # Colin27 T1 + AAL atlas: medkd data colin27
  insighttoolkit5-examples   # a second subject's T1 + tissue classes: colin27's cross-subject test
  chromium                   # the report's headless rendering test
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
