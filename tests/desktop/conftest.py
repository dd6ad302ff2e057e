"""Fixtures of the editor tests: a short FOA recording, a fake engine, the real main window."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def write_foa(path: Path, seconds: float = 10.0, rate: int = 32_000, seed: int = 0) -> Path:
    """A 4-channel recording: tone bursts and a little noise, different on every channel."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    bursts = (np.sin(2 * np.pi * 0.35 * t) > 0.3).astype(np.float32)
    w = 0.3 * np.sin(2 * np.pi * 440 * t) * bursts + 0.02 * rng.standard_normal(n)
    y = 0.15 * np.sin(2 * np.pi * 1200 * t) * (1 - bursts) + 0.02 * rng.standard_normal(n)
    z = 0.05 * rng.standard_normal(n)
    x = 0.2 * np.sin(2 * np.pi * 90 * t) * np.exp(-((t % 2.5) * 2)) + 0.01 * rng.standard_normal(n)
    sf.write(str(path), np.stack([w, y, z, x], 1).astype(np.float32), rate, subtype="FLOAT")
    return path


@pytest.fixture(scope="session", autouse=True)
def audio_output(tmp_path_factory):
    """A private PulseAudio server with a null sink for the whole session, so playback is tested
    through a real audio output on machines without a sound card (`packaging/dev.sh` installs
    pulseaudio; without it the playback tests skip and say why)."""
    if os.environ.get("PULSE_SERVER") or shutil.which("pulseaudio") is None:
        yield None
        return
    runtime = tmp_path_factory.mktemp("pulse")
    socket = runtime / "native"
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "HOME": str(runtime)}
    server = subprocess.Popen(
        [
            "pulseaudio",
            "-n",  # no default.pa: nothing but the two modules below
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--disallow-exit",
            f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
            "--load=module-null-sink sink_name=scenesplit_test",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not socket.exists() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not socket.exists():
        server.kill()
        yield None
        return
    os.environ["PULSE_SERVER"] = f"unix:{socket}"
    try:
        yield f"unix:{socket}"
    finally:
        del os.environ["PULSE_SERVER"]
        server.terminate()
        server.wait(5)


@pytest.fixture(autouse=True)
def private_settings(tmp_path):
    """Editor settings (remembered folders, formats, engines) in the test's folder, not ~."""
    from PyQt6.QtCore import QSettings

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))


@pytest.fixture
def recording(tmp_path) -> Path:
    """A 10 s 4-channel 32 kHz recording."""
    return write_foa(tmp_path / "scene.wav")


@pytest.fixture
def gate() -> threading.Event:
    """Holds fake engine jobs at 50 % until set."""
    return threading.Event()


@pytest.fixture
def fake_engine(tmp_path):
    from tests.desktop.fake_engine import FakeEngine

    return FakeEngine(tmp_path / "engine")


@pytest.fixture
def gated_engine(tmp_path, gate):
    from tests.desktop.fake_engine import FakeEngine

    yield FakeEngine(tmp_path / "engine", gate)
    gate.set()


def make_window(qtbot, engine, tmp_path, file=None):
    """The real main window wired to `engine` (connected when returned)."""
    from PyQt6.QtWidgets import QApplication

    from desktop import theme
    from desktop.app import AppOptions, create_window

    theme.apply(QApplication.instance())
    options = AppOptions(file=str(file) if file else None, cache_dir=str(tmp_path / "cache"))
    window = create_window(options, engine_factory=lambda: engine)
    window.confirm_discard = lambda: True  # no modal "save changes?" box in tests
    qtbot.addWidget(window)
    window.resize(1280, 760)
    window.show()
    if window.session.link is not None:
        qtbot.waitUntil(lambda: window.session.link.is_connected, timeout=60_000)
    return window


@pytest.fixture
def window(qtbot, fake_engine, tmp_path):
    """Main window with the fake engine, nothing open."""
    w = make_window(qtbot, fake_engine, tmp_path)
    yield w
    w.close()
    from desktop import workers

    workers.wait_all(10_000)


def settle(qtbot, window, ms: int = 50) -> None:
    """Let workers finish and Qt process what they handed back."""
    from desktop import workers

    workers.wait_all(20_000)
    qtbot.wait(ms)


def screenshot(widget, name: str) -> Path:
    """Save widget.grab() as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path


def wait_job(qtbot, window, timeout: int = 60_000) -> None:
    """Wait until the session's running job (and the fetch after it) finished."""
    qtbot.waitUntil(lambda: not window.session.busy, timeout=timeout)
    settle(qtbot, window)
