# Sourced by runbook.sh and train_all.sh: install the carried wheels (if any) into a private
# folder and put it and the repository on PYTHONPATH. Needs $py, $repo and $wheels ("" = none).
if [[ -n "$wheels" ]]; then
    site="${SITE_DIR:-/tmp/scenesplit-site}"
    echo "[gpu] installing $(ls "$wheels"/*.whl | wc -l) wheels from $wheels into $site"
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$site" "$wheels"/*.whl
    export PYTHONPATH="$site:$repo${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
fi
