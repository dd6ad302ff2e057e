#!/usr/bin/env bash
# Train one Scenesplit module on a bare machine (GPU or CPU) within a time budget.
#
#   packaging/gpu/runbook.sh --task sc --out "$OUT" [--config lite] [--minutes 20]
#       [--wheels .whl] [--sources PACK_DIR] [--run-dir DIR] [--init-from DIR] [KEY=VALUE ...]
#
# Needs only the repository, python3 with torch, a folder of wheels (packaging/gpu/wheels.txt,
# fetched by download_wheels.sh) and optionally the compact source pack (`scenesplit corpus pack`:
# PACK_DIR/manifest.csv + clips). Steps: install the wheels (pip --no-index) into a private
# folder, build the room banks and the validation set with all cores, train with the shared loop
# (resuming from the run folder if it holds last.pt; --init-from copies a previous run's
# last.pt there first), then copy what matters to OUT (at most 8 files, each < 16 MiB):
#   TASK_best.pt (model only; fp16 if the fp32 file would pass 15 MiB), TASK_last.pt (with
#   trainer state, only if < 15 MiB), config.json, metrics.jsonl, train.log, summary.json,
#   energies.npz (SC), runbook.log.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
task="" out="" config="lite" minutes="20" wheels="" sources="" run_dir="" init_from=""
overrides=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --task) task="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --config) config="$2"; shift 2 ;;
        --minutes) minutes="$2"; shift 2 ;;
        --wheels) wheels="$2"; shift 2 ;;
        --sources) sources="$2"; shift 2 ;;
        --run-dir) run_dir="$2"; shift 2 ;;
        --init-from) init_from="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *=*) overrides+=("$1"); shift ;;
        *) echo "runbook: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ -n "$task" && -n "$out" ]] || { echo "runbook: --task and --out are required" >&2; exit 2; }

py="${PYTHON:-python3}"
cores="$(nproc)"
run_dir="${run_dir:-/tmp/scenesplit-run/$task-$config}"
export SCENESPLIT_CACHE="${SCENESPLIT_CACHE:-/tmp/scenesplit-cache}"
export PYTHONUNBUFFERED=1
mkdir -p "$out" "$run_dir"
log="$out/runbook.log"
exec > >(tee -a "$log") 2>&1
say() { echo "[runbook $(date -u +%H:%M:%S)] $*"; }
t0=$(date +%s)

# 1. Python packages: wheels into a private folder, the repository on the path.
source "$repo/packaging/gpu/python_path.sh"
"$py" - <<'PY'
import platform, torch, numpy, scipy, soundfile, pyroomacoustics  # noqa: F401
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
print(f"python {platform.python_version()}, torch {torch.__version__}, GPU: {gpu}")
PY
cli=("$py" -m engine.cli.main)

# 2. Data: room banks (all cores) and the fixed validation set, cached under SCENESPLIT_CACHE.
data_args=("data.room_workers=$cores")
if [[ -n "$sources" ]]; then
    [[ -f "$sources/manifest.csv" ]] || { echo "runbook: $sources/manifest.csv not found" >&2; exit 2; }
    data_args+=("data.manifest=$(cd "$sources" && pwd)/manifest.csv")
fi
say "preparing rooms and validation set with $cores processes"
"${cli[@]}" train "$task" --config "$config" --prepare-only "${data_args[@]}" "${overrides[@]}"

# 3. Train within the budget (DataLoader workers: all cores but two).
if [[ -n "$init_from" && -f "$init_from/last.pt" && ! -f "$run_dir/last.pt" ]]; then
    cp "$init_from/last.pt" "$run_dir/last.pt"
fi
workers=$(( cores > 3 ? cores - 2 : 1 ))
say "training $task ($config) for at most $minutes min in $run_dir"
"${cli[@]}" train "$task" --config "$config" --out "$run_dir" --max-minutes "$minutes" \
    "data.num_workers=$workers" "${data_args[@]}" "${overrides[@]}"

# 4. Results to OUT (each file < 16 MiB).
limit=$((15 * 1024 * 1024))
if [[ -f "$run_dir/best.pt" ]]; then
    if [[ $(stat -c %s "$run_dir/best.pt") -lt $limit ]]; then
        "${cli[@]}" bundle export "$run_dir/best.pt" --out "$out/${task}_best.pt"
    else
        "${cli[@]}" bundle export "$run_dir/best.pt" --out "$out/${task}_best.pt" --half
    fi
fi
if [[ -f "$run_dir/last.pt" && $(stat -c %s "$run_dir/last.pt") -lt $limit ]]; then
    cp "$run_dir/last.pt" "$out/${task}_last.pt"
fi
for f in config.json metrics.jsonl train.log energies.npz; do
    [[ -f "$run_dir/$f" ]] && cp "$run_dir/$f" "$out/$f"
done
"$py" - "$run_dir" "$out/summary.json" "$(( $(date +%s) - t0 ))" <<'PY'
import json, sys
from pathlib import Path
from engine.train.checkpoints import checkpoint_summary
run, dst, seconds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
summary = {"run_dir": str(run), "wall_s": seconds}
for name in ("best.pt", "last.pt"):
    if (run / name).is_file():
        summary[name] = checkpoint_summary(run / name)
dst.write_text(json.dumps(summary, indent=1))
print(json.dumps(summary.get("best.pt", {}), indent=1))
PY
say "done in $(( $(date +%s) - t0 )) s; files in $out:"
ls -la "$out"
