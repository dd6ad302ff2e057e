#!/usr/bin/env bash
# Download the wheels of packaging/gpu/wheels.txt for the GPU machine into a folder.
#   packaging/gpu/download_wheels.sh [DEST (default .whl)] [PYTHON_VERSION (default 3.12)]
# DEST should be ignored by git (e.g. `echo /.whl/ >> .git/info/exclude`) and carried with the
# device tool's `carry`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-.whl}"
pyver="${2:-3.12}"
mkdir -p "$dest"
mapfile -t pins < <(grep -v '^\s*#' "$here/wheels.txt" | grep -v '^\s*$')
python3 -m pip download --no-deps --only-binary=:all: \
    --python-version "$pyver" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 --platform any \
    -d "$dest" "${pins[@]}"
ls -la "$dest"
