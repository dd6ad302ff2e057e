"""End to end in a real Audacity: `scenesplit audacity separate` and `relabel` driven through
mod-script-pipe, against a local engine with a tiny random-weight bundle.

Audacity 3.2 runs under Xvfb with a throwaway HOME whose audacity.cfg enables the module without
a dialog (shared/spec/HOSTS.md). Skipped when Audacity, its mod-script-pipe module or Xvfb is not
installed (`bash packaging/dev.sh` installs them when it runs as root on Debian/Ubuntu).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.cli.main import main
from engine.constants import CLASSES
from plugins.audacity.pipe import ScriptPipe, default_paths
from tests.engine.server.conftest import scene

MODULE = Path("/usr/lib/audacity/modules/mod-script-pipe.so")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts/screenshots"
SCREEN = (1280, 800)
ENGINE_ARGS = ["--device", "cpu", "--threads", "1"]
FAST = ["--window", "2", "--hop", "1.5"]


def missing() -> str | None:
    for exe in ("audacity", "Xvfb"):
        if shutil.which(exe) is None:
            return f"{exe} is not installed (apt-get install audacity xvfb)"
    if not MODULE.is_file():
        return f"Audacity's mod-script-pipe module is not at {MODULE}"
    to_path, _ = default_paths()
    try:
        os.close(os.open(to_path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        return None
    return f"another Audacity is serving {to_path}"


pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


def audacity_cfg(home: Path) -> None:
    """Preferences that load mod-script-pipe at once, with no splash or welcome dialog."""
    mtime = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(MODULE.stat().st_mtime))
    folder = home / ".config" / "audacity"
    folder.mkdir(parents=True)
    (home / "audacity-tmp").mkdir()
    (folder / "audacity.cfg").write_text(
        "PrefsVersion=1.1.1r1\n"
        "[Version]\nMajor=3\nMinor=2\nMicro=4\n"
        "[GUI]\nShowSplashScreen=0\nEmptyCanBeDirty=0\n"
        "[Module]\nmod-script-pipe=1\n"
        f"[ModulePath]\nmod-script-pipe={MODULE}\n"
        f"[ModuleDateTime]\nmod-script-pipe={mtime}\n"
        "[Quality]\nHQDitherAlgorithmChoice=None\n"
        # Audacity's temp folder (unsaved projects) in the throwaway HOME, not /var/tmp.
        f"[Directories]\nTempDir={home / 'audacity-tmp'}\n"
    )


class Audacity:
    """Xvfb + Audacity with the script pipe, started and stopped by this test module."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        audacity_cfg(self.home)
        self.pipes_before = {p for p in default_paths() if p.exists()}
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24"]
            + ["-nolisten", "tcp"],
            pass_fds=(write,),
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as f:
            display = f.readline().strip()  # written once the server accepts clients
        self.env = dict(
            os.environ,
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local/share"),
            DISPLAY=f":{display}",
        )
        self.log = open(root / "audacity.log", "w")
        self.proc = subprocess.Popen(
            ["audacity"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.pipe().connect().close()  # ready: it answered a ping

    def pipe(self) -> ScriptPipe:
        return ScriptPipe(connect_timeout=30, reply_timeout=30)

    def run(self, *commands: str) -> list:
        """Send commands on a fresh connection; JSON bodies parsed, others as text."""
        out = []
        with self.pipe() as p:
            for c in commands:
                body = p.command(c)
                out.append(json.loads(body) if body.startswith(("[", "{")) else body)
        return out

    def tracks(self) -> list[dict]:
        return self.run("GetInfo: Type=Tracks")[0]

    def clear(self) -> None:
        self.run("SelectAll:", "RemoveTracks:")

    def screenshot(self, path: Path) -> None:
        """The whole screen as a PNG, the window filling it and every track in view (nothing
        without `xwd`, from the x11-apps package)."""
        if shutil.which("xwd") is None:
            return
        self.run(
            f"SetProject: X=0 Y=0 Width={SCREEN[0]} Height={SCREEN[1]}", "FitInWindow:", "FitV:"
        )
        time.sleep(1.0)  # Audacity resizes and repaints after it has answered
        xwd = self.root / "screen.xwd"
        subprocess.run(
            ["xwd", "-root", "-silent", "-out", str(xwd)], env=self.env, check=True, timeout=30
        )
        write_png(path, xwd_pixels(xwd.read_bytes()))

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.run("SelectAll:", "RemoveTracks:", "Exit:")  # no "Save changes?" dialog
                self.proc.wait(20)
        except Exception:
            pass
        finally:
            for proc in (self.proc, self.xvfb):
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            self.log.close()
            for p in default_paths():  # the FIFOs outlive Audacity; remove the ones it made
                if p not in self.pipes_before:
                    p.unlink(missing_ok=True)


def xwd_pixels(data: bytes) -> np.ndarray:
    """RGB pixels `[H, W, 3]` of an X window dump of a 24-bit TrueColor screen."""
    header = struct.unpack(">25I", data[:100])
    size, width, height, byte_order, bytes_per_line, ncolors = (
        header[0], header[4], header[5], header[7], header[12], header[19],
    )  # fmt: skip
    offset = size + 12 * ncolors
    step = bytes_per_line // width
    rows = np.frombuffer(data, np.uint8, bytes_per_line * height, offset)
    px = rows.reshape(height, bytes_per_line)[:, : width * step].reshape(height, width, step)
    return px[..., [2, 1, 0]] if byte_order == 0 else px[..., step - 3 : step]


def write_png(path: Path, rgb: np.ndarray) -> None:
    """A minimal PNG writer (8-bit RGB), so the screenshot needs no imaging library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + np.ascontiguousarray(row).tobytes() for row in rgb)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def audacity(tmp_path_factory):
    app = Audacity(tmp_path_factory.mktemp("audacity"))
    yield app
    app.stop()


@pytest.fixture(scope="module")
def take(tmp_path_factory):
    """A 5 s 4-channel recording at 48 kHz (Audacity imports it as 4 mono tracks)."""
    return scene(tmp_path_factory.mktemp("audio") / "take.wav", 5.0, seed=3, rate=48_000)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCENESPLIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["audacity", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scenesplit audacity: error: "), err
    return lines[0]


def export(audacity: Audacity, track: dict, index: int, path: Path) -> np.ndarray:
    audacity.run(
        f"Select: Start={track['start']} End={track['end']} Track={index} TrackCount=1 Mode=Set",
        f'Export2: Filename="{path}" NumChannels=1',
    )
    return sf.read(str(path), dtype="float32")[0]


def test_bad_input_is_one_line_and_exit_2(audacity, take, cache, tmp_path, capsys):
    audacity.clear()
    error = one_line_error(*cli(capsys, "separate", *ENGINE_ARGS)[::2])
    assert "no audio tracks" in error

    audacity.run(
        f'Import2: Filename="{take}"', "Select: Start=1.5 End=1.5 Track=0 TrackCount=4 Mode=Set"
    )
    error = one_line_error(*cli(capsys, "separate", *ENGINE_ARGS)[::2])
    assert "zero length" in error and "1.500 s" in error

    audacity.run("Select: Start=1 End=2 Track=1 TrackCount=2 Mode=Set")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    token = tmp_path / "token"
    token.write_text("secret")
    args = ["--engine-url", f"http://127.0.0.1:{port}", "--token-file", str(token)]
    error = one_line_error(*cli(capsys, "separate", *args)[::2])
    assert f"cannot reach the engine at http://127.0.0.1:{port}" in error
    # the user's selection is given back as it was
    assert [t["selected"] for t in audacity.tracks()] == [0, 1, 1, 0]

    error = one_line_error(*cli(capsys, "relabel", *ENGINE_ARGS)[::2])
    assert "no stem tracks" in error
    assert len(audacity.tracks()) == 4  # nothing was added on the way


def test_separate_imports_labelled_stems_and_relabel_replaces_one(
    audacity, take, cache, tiny_bundle, tmp_path, capsys
):
    audacity.clear()
    audacity.run(
        f'Import2: Filename="{take}"', "Select: Start=1 End=4 Track=0 TrackCount=4 Mode=Set"
    )
    code, out, err = cli(capsys, "separate", "--bundle", str(tiny_bundle), *ENGINE_ARGS, *FAST)
    assert code == 0, err
    assert "4 track(s), 1.000-4.000 s" in err and "stem tracks in Audacity" in out

    tracks = audacity.tracks()
    sources, stems = tracks[:4], tracks[4:]
    assert [t["name"] for t in sources] == [f"take {i}" for i in range(1, 5)]
    assert stems, "no stem track was imported"
    assert len({t["name"] for t in stems}) == len(stems)
    for t in stems:
        assert t["name"] in CLASSES and t["kind"] == "wave" and t["channels"] == 1
        assert t["start"] == pytest.approx(1.0, abs=1e-3)
        assert t["end"] == pytest.approx(4.0, abs=1e-2)
    assert [t["selected"] for t in tracks] == [1] * 4 + [0] * len(stems)  # selection restored
    record = json.loads(next((cache / "audacity/sessions").glob("*.json")).read_text())
    assert record["version"] == 1 and [s["name"] for s in record["stems"]] == [
        t["name"] for t in stems
    ]

    audacity.screenshot(SCREENSHOTS / "audacity_stems.png")

    # The user renames the first stem track: to a non-class first, then to a class.
    index, old = 4, stems[0]["name"]
    new = next(c for c in CLASSES if c not in {t["name"] for t in stems})
    before = export(audacity, stems[0], index, tmp_path / "before.wav")
    audacity.run(f"SelectTracks: Track={index} TrackCount=1 Mode=Set", 'SetTrack: Name="Birds"')
    error = one_line_error(*cli(capsys, "relabel", *ENGINE_ARGS)[::2])
    assert "track 5 'Birds' is not a class name" in error and "Speech" in error

    audacity.run(f'SetTrack: Name="{new.lower()}"')
    code, out, err = cli(capsys, "relabel", *ENGINE_ARGS)
    assert code == 0, err
    assert f"{old} -> {new}" in err

    after_tracks = audacity.tracks()
    assert len(after_tracks) == len(tracks)
    relabelled = after_tracks[index]
    assert relabelled["name"] == new  # the class's own spelling
    assert relabelled["start"] == pytest.approx(1.0, abs=1e-3)
    assert relabelled["end"] == pytest.approx(stems[0]["end"], abs=1e-3)
    assert [t["name"] for t in after_tracks[5:]] == [t["name"] for t in stems[1:]]
    after = export(audacity, relabelled, index, tmp_path / "after.wav")
    assert after.shape == before.shape and not np.allclose(after, before)
    record = json.loads(next((cache / "audacity/sessions").glob("*.json")).read_text())
    assert record["version"] == 2 and record["stems"][0]["name"] == new
    audacity.screenshot(SCREENSHOTS / "audacity_relabel.png")

    # only the spelling differs from the class it holds: the name is put back, no engine needed
    audacity.run(
        f"SelectTracks: Track={index} TrackCount=1 Mode=Set", f'SetTrack: Name="{new.upper()}"'
    )
    code, out, err = cli(capsys, "relabel", *ENGINE_ARGS)
    assert code == 0 and "engine" not in err, err
    assert audacity.tracks()[index]["name"] == new

    error = one_line_error(*cli(capsys, "relabel", *ENGINE_ARGS)[::2])
    assert "no stem track was renamed" in error
