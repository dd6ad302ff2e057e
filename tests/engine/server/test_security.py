"""The token file and the path policy (symlinks resolved, nothing outside the allowed roots)."""

import os
import stat

import pytest

from engine.errors import ScenesplitError
from engine.server.security import BadPath, Forbidden, PathPolicy, load_or_create_token


def test_token_is_generated_private_and_reused(tmp_path):
    token, path = load_or_create_token(None, tmp_path)
    assert path == tmp_path / "token" and len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token(None, tmp_path)[0] != token  # default file: new each start
    named = tmp_path / "sub" / "engine.token"
    first, _ = load_or_create_token(named, tmp_path)
    assert stat.S_IMODE(named.stat().st_mode) == 0o600
    assert load_or_create_token(named, tmp_path)[0] == first  # a named file is reused
    named.write_text("short\n")
    with pytest.raises(ScenesplitError, match="shorter than 16"):
        load_or_create_token(named, tmp_path)


def test_token_file_others_can_read_or_that_is_a_folder_is_refused(tmp_path):
    shared = tmp_path / "shared.token"
    shared.write_text("x" * 40)
    shared.chmod(0o644)
    with pytest.raises(ScenesplitError, match=r"readable by other users \(mode 0644\).*chmod 600"):
        load_or_create_token(shared, tmp_path)
    shared.chmod(0o600)
    assert load_or_create_token(shared, tmp_path)[0] == "x" * 40
    folder = tmp_path / "token.d"
    folder.mkdir()
    with pytest.raises(ScenesplitError, match="not a regular file"):
        load_or_create_token(folder, tmp_path)


def test_path_policy(tmp_path):
    root = tmp_path / "allowed"
    (root / "deep").mkdir(parents=True)
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"x")
    inside = root / "deep" / "rec.wav"
    inside.write_bytes(b"x")
    os.symlink(outside, root / "link.wav")
    os.symlink(inside, tmp_path / "link_in.wav")
    policy = PathPolicy([root])
    assert policy.check(inside) == inside.resolve()
    assert policy.check(tmp_path / "link_in.wav") == inside.resolve()  # target is what counts
    assert policy.check(root / "missing.wav") == (root / "missing.wav").resolve()
    for bad in (outside, root / "link.wav", root / ".." / "secret.wav", "/etc/passwd"):
        with pytest.raises(Forbidden, match="outside the folders"):
            policy.check(bad)
    with pytest.raises(BadPath, match="absolute"):
        policy.check("allowed/deep/rec.wav")
    with pytest.raises(BadPath, match="NUL"):
        policy.check(f"{root}/a\x00b.wav")
    with pytest.raises(Forbidden, match="upload the file instead"):
        PathPolicy([]).check(inside)
