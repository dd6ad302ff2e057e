import re

from plugins.sessions import write_lof, write_rpp

MANIFEST = {
    "recording": {
        "path": "/data/take 1.wav",
        "name": "take 1",
        "duration_s": 30.0,
        "sample_rate": 32000,
    },
    "tracks": [
        {
            "label": "Speech",
            "file": "take 1_Speech.wav",
            "confidence": 0.9,
            "clips": [
                {"id": "Speech-1", "start_s": 1.5, "end_s": 4.0, "confidence": 0.91},
                {"id": "Speech-2", "start_s": 20.0, "end_s": 22.0, "confidence": 0.7},
            ],
        },
        {"label": "Doorbell", "file": "take 1_Doorbell.wav", "confidence": 0.8, "clips": []},
    ],
}


def test_reaper_project_places_each_clip_at_its_time(tmp_path):
    path = write_rpp(MANIFEST, tmp_path, tmp_path / "s.rpp")
    text = path.read_text()
    assert text.startswith("<REAPER_PROJECT") and text.rstrip().endswith(">")
    assert text.count("<TRACK") == 3 and text.count("<ITEM") == 4
    positions = [float(v) for v in re.findall(r"POSITION ([\d.]+)", text)]
    offsets = [float(v) for v in re.findall(r"SOFFS ([\d.]+)", text)]
    assert positions == [0.0, 1.5, 20.0, 0.0] and offsets == positions
    assert f'FILE "{tmp_path.resolve() / "take 1_Speech.wav"}"' in text
    # balanced chunks
    assert text.count("<") == sum(1 for line in text.splitlines() if line.strip() == ">")


def test_audacity_list_names_every_stem(tmp_path):
    text = write_lof(MANIFEST, tmp_path, tmp_path / "s.lof").read_text().splitlines()
    assert text[0] == 'file "/data/take 1.wav" offset 0'
    assert text[1].endswith('take 1_Speech.wav" offset 0') and len(text) == 3
