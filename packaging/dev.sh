#!/usr/bin/env bash
# Set up (once) and use a Scenesplit development environment in ./.venv.
#   bash packaging/dev.sh demo   separate the bundled example recording with the bundled models
#                                (extra arguments go to `scenesplit separate`, e.g. --tse-rounds 1)
#   bash packaging/dev.sh test   run the test suite
#   bash packaging/dev.sh setup  only create/refresh the environment
# Needs only Python >= 3.11. Installs the CPU build torch==2.13.0 where it is available locally
# (no CUDA download); set SCENESPLIT_TORCH to another requirement (e.g. "torch") to choose.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${SCENESPLIT_VENV:-.venv}
PY=${PYTHON:-python3}
STAMP="$VENV/.scenesplit-installed"

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
  fi
  local pip="$VENV/bin/python -m pip"
  if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    if [ -n "${SCENESPLIT_TORCH:-}" ]; then
      $pip install "$SCENESPLIT_TORCH"
    else
      # The local CPU wheel carries the +cpu local version; fall back to the plain pin.
      $pip install "torch==2.13.0+cpu" 2>/dev/null || $pip install "torch==2.13.0"
    fi
  fi
  # Reinstall only when the project's dependency list changed.
  if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    $pip install -e ".[app,server,data,train,sessions,dev]"
    # tinysoundfont's optional audio-output dependency (pyaudio) does not build headless.
    $pip install --no-deps "tinysoundfont>=0.3"
    touch "$STAMP"
  fi
  # Qt needs a few system libraries even offscreen; install them when missing and we are root.
  if ! "$VENV/bin/python" -c "from PyQt6 import QtGui" 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq libgl1 libegl1 libxkbcommon0 libfontconfig1 \
        libdbus-1-3 libglib2.0-0 >/dev/null
    else
      echo "warning: PyQt6 cannot load its system libraries (libEGL, libxkbcommon, fontconfig)" >&2
    fi
  fi
  # A real X11 window (not offscreen) needs the xcb libraries Qt's xcb plugin names.
  local xcb missing
  xcb="$("$VENV/bin/python" -c 'import PyQt6, pathlib; print(pathlib.Path(PyQt6.__file__).parent / "Qt6/plugins/platforms/libqxcb.so")')"
  # (captured, not piped into grep -q: under pipefail an early grep exit fails the pipe)
  missing="$( { ldd "$xcb" 2>/dev/null || true; } | grep -c "not found" || true)"
  if [ -f "$xcb" ] && { [ "$missing" != 0 ] || [ -z "$(ldconfig -p | grep libxcb-cursor.so.0)" ]; }; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
        libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 \
        libxcb-randr0 libxkbcommon-x11-0 >/dev/null
    else
      echo "warning: the editor's X11 window needs libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 (apt)" >&2
    fi
  fi
  # The Audacity end-to-end test drives a real Audacity under Xvfb (xwd takes its screenshot);
  # without them it is skipped and says why.
  if ! command -v audacity >/dev/null || ! command -v Xvfb >/dev/null || ! command -v xwd >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq audacity xvfb \
        x11-apps >/dev/null; } || echo "warning: could not install audacity xvfb x11-apps (apt)" >&2
    fi
  fi
  # Playback is tested through a real audio output: a private PulseAudio server with a null
  # sink (tests/desktop/conftest.py); without it those tests skip and say why.
  if ! command -v pulseaudio >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends pulseaudio >/dev/null; } \
        || echo "warning: could not install pulseaudio (apt)" >&2
    fi
  fi
  # The REAPER scripts are tested with lua5.4 against a fake REAPER API; without it they skip.
  if ! command -v lua5.4 >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lua5.4 \
        >/dev/null; } || echo "warning: could not install lua5.4 (apt)" >&2
    fi
  fi
}

cmd=${1:-demo}
shift || true
setup
case "$cmd" in
  setup) ;;
  demo)
    # The main job on the bundled default: the example recording through the shipped bundle.
    example=$("$VENV/bin/python" -c 'from engine.paths import example_recording as e; print(e())')
    "$VENV/bin/scenesplit" info
    "$VENV/bin/scenesplit" probe "$example"
    "$VENV/bin/scenesplit" separate "$example" -o artifacts/demo "$@"
    echo "stems and manifest.json in artifacts/demo" ;;
  test)
    QT_QPA_PLATFORM=offscreen "$VENV/bin/python" -m pytest "$@" ;;
  *) echo "usage: bash packaging/dev.sh {demo|test|setup} [args]" >&2; exit 2 ;;
esac
