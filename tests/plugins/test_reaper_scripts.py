"""The REAPER actions, run by `lua5.4` against a fake of the REAPER API they call.

REAPER itself cannot be installed here; `reaper_fake.lua` fakes exactly the functions the
scripts use (and fails on any other), and a stub `scenesplit` on PATH stands in for the engine:
it logs its arguments and writes a small result folder with a manifest.
"""

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "plugins" / "reaper"
FAKE = Path(__file__).with_name("reaper_fake.lua")
LUA = shutil.which("lua5.4")
pytestmark = pytest.mark.skipif(
    LUA is None, reason="lua5.4 is not installed (apt-get install lua5.4; packaging/dev.sh does)"
)

# The stub engine: `separate FILE -o DIR ...` writes Speech and Doorbell stems; `refine DIR
# --change-track OLD=NEW -o NEWDIR` writes NEW in place of OLD. The manifest carries escapes,
# non-ASCII text, nulls and nested windows so the scripts' JSON decoder meets them.
STUB = r"""#!/bin/sh
printf '%s\n' "$*" >> "$STUB_LOG"
cmd=$1; shift
first=$1
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift ;;
    --change-track) change=$2; shift ;;
  esac
  shift
done
labels="Speech Doorbell"
if [ "$cmd" = refine ]; then
  old=${change%%=*}; new=${change#*=}
  labels=$(echo "$labels" | sed "s/$old/$new/")
fi
[ -n "$STUB_FAIL" ] && { echo "scenesplit $cmd: error: $STUB_FAIL" >&2; exit 2; }
mkdir -p "$out"
tracks=""
for l in $labels; do
  printf 'RIFF %s %s' "$cmd" "$l" > "$out/take_$l.wav"
  tracks="$tracks${tracks:+,}{\"label\": \"$l\", \"file\": \"take_$l.wav\", \"confidence\": 0.875,
   \"clips\": [{\"id\": \"$l-1\", \"start_s\": 0.5, \"end_s\": 1.25e0, \"confidence\": 0.9,
   \"sources\": [[0, 1], [1, 0]]}]}"
done
cat > "$out/manifest.json" <<JSON
{"recording": {"path": "$first", "name": "take \"1\" caf\u00e9 \ud83c\udfb5", "channels": null,
  "start_s": 2.0, "duration_s": 3.5, "sample_rate": 32000},
 "options": {"tse_rounds": 2, "flag": true, "other": false},
 "windows": [{"index": 0, "stages": {"CP 1": ["Speech", "silence"]}, "overrides": []}],
 "tracks": [$tracks]}
JSON
echo '{"out": "'"$out"'", "tracks": []}'
"""


@pytest.fixture
def env(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "scenesplit"
    stub.write_text(STUB)
    stub.chmod(0o755)
    (tmp_path / "media").mkdir()
    source = tmp_path / "media" / "field take.wav"
    source.write_bytes(b"RIFF")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STUB_LOG": str(tmp_path / "calls.log"),
    }
    env.pop("SCENESPLIT_COMMAND", None)
    return {"env": env, "tmp": tmp_path, "source": source}


def run_lua(env, body: str) -> dict:
    """Run `body` with the fake loaded (as `fake`) and return the dumped project state."""
    state = env["tmp"] / "state.json"
    driver = env["tmp"] / "driver.lua"
    driver.write_text(
        f"fake = dofile({json.dumps(str(FAKE))})\n"
        f"fake.project_path = {json.dumps(str(env['tmp'] / 'project'))}\n"
        f"SCRIPTS = {json.dumps(str(SCRIPTS) + '/')}\n"
        + textwrap.dedent(body)
        + f"\nfake.dump({json.dumps(str(state))})\n"
    )
    proc = subprocess.run(
        [LUA, str(driver)], env=env["env"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(state.read_text())


def calls(env) -> list[str]:
    log = env["tmp"] / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


SETUP = """
local t = fake.new_track("Field")
fake.tracks[1] = t
local item = fake.add_item(t, {source}, 12.5, 3.5, 2.0)
item.selected = true
"""

SEPARATE = 'dofile(SCRIPTS .. "Scenesplit - separate selected item.lua")\n'
REEXTRACT = 'dofile(SCRIPTS .. "Scenesplit - re-extract renamed stem track.lua")\n'


def setup(env) -> str:
    return SETUP.format(source=json.dumps(str(env["source"])))


def test_separate_makes_a_folder_of_class_tracks_at_the_item(env):
    state = run_lua(env, setup(env) + SEPARATE)
    assert state["messages"] == []
    (call,) = calls(env)
    assert call.startswith(f"separate {env['source']} -o ")
    assert call.endswith("--json --start 2.000000 --duration 3.500000")
    names = [t["name"] for t in state["tracks"]]
    assert names == ["Field", "Scenesplit", "Speech", "Doorbell"]
    field, folder, speech, doorbell = state["tracks"]
    assert [t["depth"] for t in state["tracks"]] == [0, 1, 0, -1]
    assert speech["parent"] == doorbell["parent"] == "Scenesplit" and field.get("parent") is None
    result = Path(folder["ext"]["scenesplit_result"])
    assert (result / "manifest.json").is_file()
    assert result.parent == env["tmp"] / "project" / "Scenesplit"
    for track in (speech, doorbell):
        (item,) = track["items"]
        assert item["position"] == 12.5 and item["length"] == 3.5
        assert item["file"] == str(result / f"take_{track['name']}.wav")
        assert Path(item["file"]).is_file() and item["take_name"] == track["name"]
        assert track["ext"]["scenesplit_label"] == track["name"]
    assert state["undo"] == ["begin", "Scenesplit: separate selected item"]


def test_reextract_refines_the_renamed_track_and_swaps_sources(env):
    body = (
        setup(env)
        + SEPARATE
        + """
local speech = fake.tracks[3]
reaper.GetSetMediaTrackInfo_String(speech, "P_NAME", "Typing", true)
speech.selected = true
"""
        + REEXTRACT
    )
    state = run_lua(env, body)
    assert state["messages"] == []
    separate, refine = calls(env)
    first = separate.split(" -o ")[1].split(" --json")[0]
    assert refine == f"refine {first} --change-track Speech=Typing -o {first}_v2 --json"
    _, folder, typing, doorbell = state["tracks"]
    assert folder["ext"]["scenesplit_result"] == f"{first}_v2"
    assert typing["name"] == "Typing" and typing["ext"]["scenesplit_label"] == "Typing"
    assert typing["items"][0]["file"] == f"{first}_v2/take_Typing.wav"
    assert Path(typing["items"][0]["file"]).read_text() == "RIFF refine Typing"
    assert doorbell["items"][0]["file"] == f"{first}_v2/take_Doorbell.wav"
    assert typing["items"][0]["position"] == 12.5


def test_reextract_of_an_unrenamed_track_asks_to_rename(env):
    body = setup(env) + SEPARATE + "fake.tracks[3].selected = true\n" + REEXTRACT
    state = run_lua(env, body)
    assert "Rename the track" in state["messages"][0]
    assert len(calls(env)) == 1  # no refine call


def test_an_engine_error_is_shown_and_nothing_inserted(env):
    env["env"]["STUB_FAIL"] = "no model bundle here"
    state = run_lua(env, setup(env) + SEPARATE)
    assert [t["name"] for t in state["tracks"]] == ["Field"]
    assert "Separation failed" in state["messages"][0]
    assert "no model bundle here" in state["messages"][0]


def test_nothing_selected_says_so(env):
    state = run_lua(env, 'fake.tracks[1] = fake.new_track("Field")\n' + SEPARATE)
    assert state["messages"] == ["Select an audio item to separate first."]


def test_json_decoder_reads_what_python_writes(env):
    data = {
        "s": 'a "q" \\ / \n\t café 🎵 \u0001',
        "n": [0, -1.5, 2e-3, 1e21, 10],
        "nested": {"t": True, "f": False, "empty": {}, "list": [[], [1, [2]]]},
    }
    src = env["tmp"] / "data.json"
    src.write_text(json.dumps(data, indent=1))
    out = env["tmp"] / "decoded.json"
    driver = env["tmp"] / "decode.lua"
    driver.write_text(
        f"local fake = dofile({json.dumps(str(FAKE))})\n"
        f"local S = dofile({json.dumps(str(SCRIPTS / 'scenesplit_lib.lua'))})\n"
        f"local v = S.json_decode(S.read_file({json.dumps(str(src))}))\n"
        f"local f = io.open({json.dumps(str(out))}, 'w'); f:write(fake.encode(v)); f:close()\n"
        "assert(not pcall(S.json_decode, '{\"a\": 1,}'))\n"
        "assert(not pcall(S.json_decode, '[1] x'))\n"
    )
    proc = subprocess.run([LUA, str(driver)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    decoded = json.loads(out.read_text())
    decoded["nested"]["empty"] = decoded["nested"]["empty"] or {}
    assert decoded == data


def test_install_copies_the_scripts_and_they_run_the_recorded_command(env, capsys):
    from engine.cli.main import main

    dest = env["tmp"] / "REAPER" / "Scripts" / "Scenesplit"
    stub = env["tmp"] / "bin" / "scenesplit"
    assert main(["plugins", "install", "reaper", "--path", str(dest), "--command", str(stub)]) == 0
    printed = capsys.readouterr().out
    assert str(dest) in printed and "Load ReaScript" in printed
    installed = sorted(p.name for p in dest.iterdir())
    assert installed == [
        "Scenesplit - re-extract renamed stem track.lua",
        "Scenesplit - separate selected item.lua",
        "scenesplit_config.lua",
        "scenesplit_lib.lua",
    ]
    # The installed copy finds the engine through its config, not PATH.
    env["env"]["PATH"] = os.environ["PATH"]
    body = (
        setup(env)
        + f'dofile({json.dumps(str(dest) + "/")} .. "Scenesplit - separate selected item.lua")\n'
    )
    state = run_lua(env, body)
    assert state["messages"] == [] and len(state["tracks"]) == 4
    assert calls(env)[0].startswith("separate ")


def test_default_install_folder_on_linux(monkeypatch, tmp_path):
    from plugins.reaper import default_scripts_dir

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert default_scripts_dir() == tmp_path / ".config" / "REAPER" / "Scripts" / "Scenesplit"
