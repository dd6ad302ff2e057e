"""The pipeline with real (tiny, untrained) models: stages, long recordings, refinement, cancel."""

import os

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.audio import write_audio
from engine.constants import CLASSES, SILENCE
from engine.contract import AddClass, ChangeClass, RemoveClip, RemoveTrack
from engine.errors import AudioError, Cancelled, ScenesplitError
from engine.pipeline.manifest import Manifest
from engine.pipeline.recording import separate_recording
from engine.pipeline.refine import refine_result
from engine.pipeline.separator import Separator, SlotOverride
from engine.pipeline.windows import WindowSpec
from engine.progress import CancelToken

SMALL = WindowSpec(window_s=2.0, hop_s=1.5)  # 3.3 s -> 2 windows


@pytest.fixture(scope="module")
def separator(tiny_bundle):
    return Separator.from_path(tiny_bundle, "cpu", tse_rounds=1, batch_windows=2)


@pytest.fixture(scope="module")
def v1(separator, recording, tmp_path_factory):
    out = tmp_path_factory.mktemp("result") / "v1"
    reports = []
    manifest = separate_recording(separator, recording, out, window=SMALL, progress=reports.append)
    return out, manifest, reports


def test_every_stage_is_kept_with_the_right_shapes(tiny_bundle):
    sep = Separator.from_path(tiny_bundle, "cpu", tse_rounds=2)
    mix = torch.randn(2, 4, 8_000) * 0.1
    stages = sep.run(mix)
    assert len(stages.fss) == 3 and len(stages.cp) == 3 and len(stages.clues) == 2
    for f in stages.fss:
        assert f.shape == (2, 3, 8_000) and torch.isfinite(f).all()
    assert stages.cp_uss.index.shape == (2, 3) and stages.clues[0].shape == (2, 3, 18)
    names = [name for name, _, _ in stages.table_rows()]
    assert names[:3] == ["FSS 1 + CP 1", "FSS 1 + CP 1-1", "FSS 2 + CP 1-1"]
    assert names[-1] == "FSS 3 + CP 3"
    for b in range(2):  # a class at most once per window
        labels = [lab for lab in stages.final_prediction.labels(b) if lab != SILENCE]
        assert len(labels) == len(set(labels))


def test_override_with_the_unchanged_clue_reproduces_the_output(separator):
    mix = torch.randn(1, 4, 8_000) * 0.1
    stages = separator.run(mix)
    clue = stages.clues[-1][0]
    slot = int(clue.any(-1).float().argmax())  # a slot that had a class clue
    label = CLASSES[int(clue[slot].argmax())]
    wave, _ = separator.apply_overrides(mix, stages, [[SlotOverride(slot, label)]])
    assert torch.allclose(wave, stages.fss[-1], atol=1e-5)
    other = next(c for c in CLASSES if c != label)
    changed, pred = separator.apply_overrides(mix, stages, [[SlotOverride(slot, other)]])
    assert not torch.allclose(changed[0, slot], stages.fss[-1][0, slot])
    rest = [k for k in range(3) if k != slot]
    assert torch.equal(changed[0, rest], stages.fss[-1][0, rest])  # other slots untouched
    assert pred.labels(0)[slot] == other


def test_separate_recording_writes_stems_and_manifest(v1, recording):
    out, m, reports = v1
    assert m.tracks, "the never-silent classifier labels every slot"
    n = round(sf.info(str(recording)).frames * 32_000 / 48_000)
    assert m.recording["frames"] == n and len(m.windows) == SMALL.plan(n).count == 2
    for t in m.tracks:
        info = sf.info(str(out / t.file))
        assert info.frames == n and info.samplerate == 32_000 and info.channels == 1
        assert t.file == f"field take_{t.label}.wav" and t.clips
    assert [r.done for r in reports] == sorted(r.done for r in reports)
    assert reports[-1].fraction == 1.0
    assert Manifest.load(out).to_dict() == m.to_dict()
    assert {"CP 1", "CP 1-1", "CP 2", "clue TSE 1"} <= set(m.windows[0].stages)


def test_cancel_stops_within_a_window_and_leaves_nothing(separator, recording, tmp_path):
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p.done)
        if p.done >= 1:
            token.cancel()

    one_at_a_time = Separator(separator.bundle, "cpu", tse_rounds=0, batch_windows=1)
    with pytest.raises(Cancelled):
        separate_recording(
            one_at_a_time,
            recording,
            tmp_path / "out",
            window=SMALL,
            progress=progress,
            cancel=token,
        )
    assert max(seen) == 1  # stopped right after the first window
    assert list((tmp_path / "out").iterdir()) == []


def test_input_truncated_while_separating_fails_and_leaves_nothing(separator, tmp_path):
    frames = 48_000 * 8  # long enough that the reader is mid-file after the first window
    x = 0.05 * np.random.default_rng(3).normal(size=(4, frames)).astype(np.float32)
    path = write_audio(tmp_path / "cut.wav", x, 48_000)

    def progress(p):
        if p.done == 1:  # cut the second half of the samples away
            os.truncate(path, path.stat().st_size - frames * 4 * 4 // 2)

    one_at_a_time = Separator(separator.bundle, "cpu", tse_rounds=0, batch_windows=1)
    with pytest.raises(AudioError, match=r"cut.wav: ended after .* of the 384000 frames"):
        separate_recording(one_at_a_time, path, tmp_path / "out", window=SMALL, progress=progress)
    assert list((tmp_path / "out").iterdir()) == []


def test_refinement_with_the_same_clue_reproduces_the_stems(separator, v1, tmp_path):
    out, m1, _ = v1
    clip = m1.tracks[0].clips[0]
    new = next(c for c in CLASSES if m1.track(c) is None)
    m2 = refine_result(separator, out, ChangeClass(clip.id, new), tmp_path / "v2")
    assert m2.version == 2 and m2.parent == str(out.resolve())
    assert m2.history[-1]["kind"] == "change_class" and m2.track(new) is not None
    # the clue of those slots is now `new`: asking for `new` again must change nothing
    again = next(c for c in m2.track(new).clips if c.sources == clip.sources)
    m3 = refine_result(separator, tmp_path / "v2", ChangeClass(again.id, new), tmp_path / "v3")
    assert [t.label for t in m3.tracks] == [t.label for t in m2.tracks]
    for t in m2.tracks:
        a, _ = sf.read(str(tmp_path / "v2" / t.file))
        b, _ = sf.read(str(tmp_path / "v3" / t.file))
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_change_remove_and_add(separator, v1, tmp_path):
    out, m1, _ = v1
    before = Manifest.load(out).to_dict()
    clip = m1.tracks[0].clips[0]
    # remove: the slot goes silent in every window of the clip, so the clip disappears
    m2 = refine_result(separator, out, RemoveClip(clip.id), tmp_path / "v2")
    assert all(
        list(src)
        not in [
            list(s)
            for c in (m2.track(clip.label).clips if m2.track(clip.label) else [])
            for s in c.sources
        ]
        for src in clip.sources
    )
    for w, s in clip.sources:
        assert m2.windows[w].slots[s].label == SILENCE
    assert m2.rerun_windows == sorted({w for w, _s in clip.sources})  # nothing else re-ran
    assert Manifest.load(out).to_dict() == before  # v1 untouched
    # add a new class over a range into the freed slot
    new = next(c for c in CLASSES if m2.track(c) is None)
    m3 = refine_result(separator, tmp_path / "v2", AddClass(new, 1.0, 2.0), tmp_path / "v3")
    track = m3.track(new)
    assert track is not None and m3.version == 3
    y, _ = sf.read(str(tmp_path / "v3" / track.file))
    assert np.abs(y[: int(0.95 * 32_000)]).max() < 1e-6  # nothing before the range (20 ms fade)
    assert np.abs(y[int(1.1 * 32_000) : int(1.9 * 32_000)]).max() > 0
    # change a clip's class: it moves to the new label's track
    target = next(c for c in CLASSES if m3.track(c) is None)
    other = m3.tracks[0].clips[0]
    m4 = refine_result(separator, tmp_path / "v3", ChangeClass(other.id, target), tmp_path / "v4")
    assert m4.track(target) is not None
    # remove a whole track: its stem and every slot it held are gone, the other tracks stay
    gone = m1.tracks[0].label
    m6 = refine_result(separator, out, RemoveTrack(gone), tmp_path / "v6")
    assert m6.track(gone) is None and not (tmp_path / "v6" / m1.tracks[0].file).exists()
    assert {t.label for t in m6.tracks} == {t.label for t in m1.tracks} - {gone}
    assert m6.history[-1] == {"version": 2, "kind": "remove_track", "track": gone}
    # bad operations are clear errors
    with pytest.raises(ScenesplitError, match="no track"):
        refine_result(separator, out, RemoveTrack("Kazoo"), tmp_path / "v7")
    with pytest.raises(ScenesplitError, match="no clip"):
        refine_result(separator, out, RemoveClip("Nope-9"), tmp_path / "v5")
    with pytest.raises(ScenesplitError, match="unknown class"):
        refine_result(separator, out, ChangeClass(clip.id, "Kazoo"), tmp_path / "v5")


def test_rerun_into_the_same_folder_leaves_only_what_its_manifest_lists(
    separator, recording, tmp_path
):
    import json
    import shutil

    out = tmp_path / "out"
    first = separate_recording(separator, recording, out, window=SMALL)
    # An earlier result in this folder listed a class this run will not find, and the user
    # keeps a file of their own here.
    data = json.loads((out / "manifest.json").read_text())
    stale = {**data["tracks"][0], "label": "Cough", "file": "field take_Cough.wav"}
    data["tracks"].append(stale)
    (out / "manifest.json").write_text(json.dumps(data))
    shutil.copy(out / first.tracks[0].file, out / "field take_Cough.wav")
    (out / "notes.txt").write_text("mine")
    second = separate_recording(separator, recording, out, window=SMALL)
    wavs = sorted(p.name for p in out.glob("*.wav"))
    assert wavs == sorted(t.file for t in second.tracks)
    assert (out / "notes.txt").read_text() == "mine"


def test_tse_rounds_default_to_the_bundles_choice(tiny_bundle, tmp_path):
    import json
    import shutil

    from engine.pipeline.bundle import BundleError, read_bundle_meta

    assert Separator.from_path(tiny_bundle, "cpu").tse_rounds == 2  # says nothing: the paper's
    chosen = shutil.copytree(tiny_bundle, tmp_path / "chosen")
    meta = json.loads((chosen / "bundle.json").read_text())
    meta["pipeline"] = {"tse_rounds": 0}
    (chosen / "bundle.json").write_text(json.dumps(meta))
    sep = Separator.from_path(chosen, "cpu")
    assert sep.tse_rounds == 0 and sep.bundle.describe()["tse_rounds"] == 0
    stages = sep.run(torch.randn(1, 4, 8_000) * 0.1)
    assert len(stages.fss) == 1 and stages.clues == []  # USS + classifier only
    assert Separator.from_path(chosen, "cpu", tse_rounds=1).tse_rounds == 1  # asked for
    for bad in (-1, 9, 1.5, "2"):
        meta["pipeline"] = {"tse_rounds": bad}
        (chosen / "bundle.json").write_text(json.dumps(meta))
        with pytest.raises(BundleError, match=r"bundle.json: pipeline.tse_rounds must be"):
            read_bundle_meta(chosen)


def test_a_result_separated_without_tse_rounds_can_still_be_corrected(
    tiny_bundle, recording, tmp_path
):
    """With 0 rounds the output is the USS's; a correction then runs the TSE once, guided by
    the USS's output and the new label."""
    sep = Separator.from_path(tiny_bundle, "cpu", tse_rounds=0)
    m1 = separate_recording(sep, recording, tmp_path / "v1", window=SMALL)
    assert m1.options["tse_rounds"] == 0
    clip = m1.tracks[0].clips[0]
    new = next(c for c in CLASSES if m1.track(c) is None)
    m2 = refine_result(sep, tmp_path / "v1", ChangeClass(clip.id, new), tmp_path / "v2")
    assert m2.track(new) is not None
    track = m2.track(new)
    changed, rate = sf.read(str(tmp_path / "v2" / track.file))
    before, _ = sf.read(str(tmp_path / "v1" / m1.tracks[0].file))
    span = slice(int(clip.start_s * rate), int(clip.end_s * rate))
    assert np.abs(changed[span]).max() > 0  # the clip's time has sound under its new label
    assert not np.allclose(changed[span], before[span], atol=1e-4)  # re-extracted, not renamed
