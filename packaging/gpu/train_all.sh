#!/usr/bin/env bash
# One device call -> trained separators: the USS and the TSE train at once on the lent GPU,
# resuming the CPU campaign's state, and at most 8 files come back (engine/train/gpu_kit.py).
#
#   packaging/gpu/train_all.sh --out "$OUT" [--wheels .whl] [--sources .pack]
#       [--budget-minutes 9] [--dry-run]
#
# On the device (carry: .whl .pack):
#   bash packaging/gpu/train_all.sh --out $OUT --wheels .whl --sources .pack --budget-minutes 8.5
# Here, the same steps with toy sizes on the CPU (the test suite runs this):
#   bash packaging/gpu/train_all.sh --dry-run --out /tmp/kit
set -euo pipefail
export KIT_T0="$(date +%s)"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="" wheels="" args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="$2"; args+=("$1" "$2"); shift 2 ;;
        --wheels) wheels="$2"; shift 2 ;;
        --sources|--budget-minutes|--state|--runs) args+=("$1" "$2"); shift 2 ;;
        --dry-run) args+=("$1"); shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "train_all: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ -n "$out" ]] || { echo "train_all: --out is required" >&2; exit 2; }
mkdir -p "$out"
exec > >(tee -a "$out/train_all.log") 2>&1

py="${PYTHON:-python3}"
export SCENESPLIT_CACHE="${SCENESPLIT_CACHE:-/tmp/scenesplit-cache}"
export PYTHONUNBUFFERED=1
source "$repo/packaging/gpu/python_path.sh"
cd "$repo"
"$py" -m engine.train.gpu_kit "${args[@]}"
