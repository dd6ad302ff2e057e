"""The script-pipe protocol client against a fake Audacity on two FIFOs in a temp folder."""

from __future__ import annotations

import os
import threading
import time

import pytest

from engine.cli.main import main
from plugins.audacity.pipe import (
    PING,
    AudacityError,
    CommandFailed,
    ScriptPipe,
    split_reply,
)

OK = b"BatchCommand finished: OK\n\n"
FAILED = b"BatchCommand finished: Failed!\n\n"


class FakeAudacity(threading.Thread):
    """Plays Audacity's side: reads command lines from `to`, writes `answer(command)` to `from`.

    Like Audacity it opens `to` for reading (waiting for a client), then `from` for writing, and
    may make the FIFOs late (`make_after`), start reading late (`open_after`), answer the first
    `drop` commands with a bare newline (Audacity still starting), or stay silent (None).
    """

    def __init__(self, folder, answer=None, make_after=0.0, open_after=0.0, drop=0):
        super().__init__(daemon=True)
        self.to_path, self.from_path = folder / "pipe.to", folder / "pipe.from"
        self.answer = answer or (lambda c: b"\n" + OK)
        self.make_after, self.open_after, self.drop = make_after, open_after, drop
        self.commands: list[str] = []
        self.made = threading.Event()

    def make(self):
        os.mkfifo(self.to_path)
        os.mkfifo(self.from_path)
        self.made.set()

    def run(self):
        time.sleep(self.make_after)
        self.make()
        time.sleep(self.open_after)
        with open(self.to_path, "rb") as commands, open(self.from_path, "wb", buffering=0) as out:
            for line in commands:
                command = line.decode().rstrip("\n")
                self.commands.append(command)
                if len(self.commands) <= self.drop:
                    out.write(b"\n")
                    continue
                reply = self.answer(command)
                if reply == b"CLOSE":
                    return
                if reply is not None:
                    out.write(reply)

    def pipe(self, **kw) -> ScriptPipe:
        return ScriptPipe(self.to_path, self.from_path, **kw)

    def stop(self):
        """Unblock the thread's opens (if no client came) so it ends with the test."""
        for path, flags in ((self.to_path, os.O_WRONLY), (self.from_path, os.O_RDONLY)):
            try:
                os.close(os.open(path, flags | os.O_NONBLOCK))
            except OSError:
                pass
        self.join(2)


@pytest.fixture
def fake(tmp_path):
    made = []

    def start(**kw) -> FakeAudacity:
        folder = tmp_path / f"audacity{len(made)}"
        folder.mkdir()
        f = FakeAudacity(folder, **kw)
        f.start()
        made.append(f)
        return f

    yield start
    for f in made:
        f.stop()


def audacity_like(command: str) -> bytes | None:
    if command == PING:
        return b'\n "Help" "Help" "url" "Gives help on a command." \n' + OK
    if command == "GetInfo: Type=Tracks":
        return b'\n[ \n  { "name":"take 1", "kind":"wave", "start":0, "end":3 } ]\n' + OK
    if command.startswith("Export2:"):
        return b"Exported to WAV format: /tmp/x.wav\n" + OK
    if command == "Frobnicate:":
        return b"Your batch command of Frobnicate was not recognized.\n" + FAILED
    if command == "Wait:":
        return None
    if command == "Bye:":
        return b"CLOSE"
    return b"\n" + OK


# -- reply parsing ---------------------------------------------------------------------------


def test_split_reply_json_text_failed_and_incomplete():
    reply, rest = split_reply(b"\n[ 1, 2 ]\n" + OK + b"\nmore")
    assert reply.ok and reply.body == "[ 1, 2 ]" and reply.json() == [1, 2] and rest == b"\nmore"
    reply, _ = split_reply(b"Exported to WAV format: /x.wav\n" + OK)
    assert reply.ok and reply.body == "Exported to WAV format: /x.wav"
    reply, _ = split_reply(b"Your batch command of X was not recognized.\n" + FAILED)
    assert not reply.ok and "not recognized" in reply.body
    assert split_reply(b"\n[ 1,") == (None, b"\n[ 1,")
    assert split_reply(b"\n[ 1 ]\nBatchCommand finished: OK\n")[0] is None  # no empty line yet
    # bare newlines of dropped commands before a reply stay out of its body
    reply, rest = split_reply(b"\n\n\n" + OK + b"\n[]\n" + OK)
    assert reply.body == "" and split_reply(rest)[0].json() == []


def test_reply_that_is_not_json_is_one_clear_error():
    reply, _ = split_reply(b"Command not found\n" + OK)
    with pytest.raises(AudacityError, match="no JSON"):
        reply.json()


# -- a conversation --------------------------------------------------------------------------


def test_commands_and_json_queries_round_trip(fake):
    f = fake(answer=audacity_like)
    with f.pipe(connect_timeout=5) as pipe:
        assert pipe.query("GetInfo: Type=Tracks") == [
            {"name": "take 1", "kind": "wave", "start": 0, "end": 3}
        ]
        assert pipe.command("Export2: Filename=/tmp/x.wav") == "Exported to WAV format: /tmp/x.wav"
        assert pipe.command("SelectAll:") == ""
    assert f.commands == [
        PING,
        "GetInfo: Type=Tracks",
        "Export2: Filename=/tmp/x.wav",
        "SelectAll:",
    ]


def test_failed_command_raises_with_audacitys_words(fake):
    f = fake(answer=audacity_like)
    with f.pipe(connect_timeout=5) as pipe:
        reply = pipe.send("Frobnicate:")
        assert not reply.ok
        with pytest.raises(CommandFailed, match="Frobnicate was not recognized") as err:
            pipe.command("Frobnicate:")
        assert err.value.command == "Frobnicate:"
        assert pipe.command("SelectAll:") == ""  # the conversation goes on


def test_commands_dropped_while_audacity_starts_are_pinged_again(fake, monkeypatch):
    monkeypatch.setattr("plugins.audacity.pipe.PING_WAIT_S", 0.1)
    f = fake(answer=audacity_like, drop=3)
    with f.pipe(connect_timeout=10) as pipe:
        assert pipe.query("GetInfo: Type=Tracks")[0]["name"] == "take 1"
    assert f.commands[:4] == [PING] * 4 and f.commands[4] == "GetInfo: Type=Tracks"


# -- retries and failures --------------------------------------------------------------------


def test_connect_retries_until_audacity_reads_the_pipe(fake):
    f = fake(answer=audacity_like, open_after=0.4)  # FIFOs there, nobody reading: ENXIO
    assert f.made.wait(2)
    t0 = time.monotonic()
    with f.pipe(connect_timeout=5) as pipe:
        assert pipe.command("SelectAll:") == ""
    assert time.monotonic() - t0 >= 0.3


def test_connect_retries_until_the_pipes_exist(fake):
    f = fake(answer=audacity_like, make_after=0.4)  # no FIFOs yet: ENOENT
    with f.pipe(connect_timeout=5) as pipe:
        assert pipe.command("SelectAll:") == ""


def test_no_pipe_says_how_to_enable_the_module(tmp_path):
    pipe = ScriptPipe(tmp_path / "none.to", tmp_path / "none.from", connect_timeout=0.2)
    with pytest.raises(AudacityError) as err:
        pipe.connect()
    message = str(err.value)
    assert "Edit > Preferences > Modules" in message and "mod-script-pipe" in message
    assert "\n" not in message


def test_pipe_nobody_reads_is_the_same_message(tmp_path):
    os.mkfifo(tmp_path / "p.to")
    os.mkfifo(tmp_path / "p.from")  # left behind by an Audacity that exited
    with pytest.raises(AudacityError, match="mod-script-pipe"):
        ScriptPipe(tmp_path / "p.to", tmp_path / "p.from", connect_timeout=0.2).connect()


def test_silent_audacity_times_out_naming_a_dialog(fake):
    f = fake(answer=lambda c: None)
    with pytest.raises(AudacityError, match="does not answer.*dialog"):
        f.pipe(connect_timeout=0.6).connect()
    f = fake(answer=audacity_like)
    with f.pipe(connect_timeout=5, reply_timeout=0.3) as pipe:
        with pytest.raises(AudacityError, match="did not answer `Wait:` within 0.3 s"):
            pipe.command("Wait:")


def test_audacity_closing_the_pipe_is_reported(fake):
    f = fake(answer=audacity_like)
    with f.pipe(connect_timeout=5) as pipe:
        with pytest.raises(AudacityError, match="closed its script pipe during `Bye:`"):
            pipe.command("Bye:")


def test_cli_without_audacity_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(
        ["audacity", "separate", "--pipe", str(tmp_path / "none"), "--connect-timeout", "0.2"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("scenesplit audacity: error: ")
    assert "set mod-script-pipe to Enabled" in err and "Traceback" not in err
