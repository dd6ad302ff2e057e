#!/usr/bin/env bash
# One session of the CPU training campaign (issue 15): resume the `cpu` USS and TSE from
# packaging/cpu/state/, train both for MINUTES (one core each; run nothing else heavy beside
# them), evaluate on the fixed held-out set, ship the bundle when better, record the point.
#   bash packaging/cpu/campaign.sh [MINUTES]        (default 120)
set -euo pipefail
cd "$(dirname "$0")/../.."
bash packaging/dev.sh setup
exec .venv/bin/python -m engine.train.campaign --minutes "${1:-120}" "${@:2}"
