import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from engine.constants import CLASS_INDEX, SILENCE
from engine.data.datasets import SceneFolder, SynthesizedScenes, scene_to_tensors
from engine.data.dcase_layout import list_scenes, read_scene, write_scene
from engine.data.scenes import synthesize_scene_components


def test_scene_round_trips_through_the_official_layout(tmp_path, toy_config, toy_bank):
    scene, _ = synthesize_scene_components(5, toy_config, "test", room_bank=toy_bank)
    write_scene(scene, tmp_path, "scene_0005")
    assert (tmp_path / "soundscape" / "scene_0005.wav").exists()
    for label in scene.labels:
        if label != SILENCE:
            assert (tmp_path / "oracle_target" / f"scene_0005_{label}.wav").exists()
    back = read_scene(tmp_path, "scene_0005")
    assert list_scenes(tmp_path) == ["scene_0005"]
    assert back.labels == scene.labels
    np.testing.assert_array_equal(back.mixture, scene.mixture)
    np.testing.assert_array_equal(back.targets, scene.targets)
    np.testing.assert_array_equal(back.interference, scene.interference)
    np.testing.assert_array_equal(back.noise, scene.noise)
    for a, b in zip(back.metadata["events"], scene.metadata["events"], strict=True):
        for key in ("label", "source", "event_time", "event_duration", "snr", "role", "position"):
            assert a[key] == b[key]
    assert back.metadata["room"] == scene.metadata["room"]
    assert back.metadata["layout"] == scene.metadata["layout"]


def test_layout_without_metadata_reads_labels_from_oracle_files(tmp_path, toy_config, toy_bank):
    scene, _ = synthesize_scene_components(6, toy_config, "test", room_bank=toy_bank)
    write_scene(scene, tmp_path, "s", components=False)
    (tmp_path / "metadata" / "s.json").unlink()
    back = read_scene(tmp_path, "s")
    real = sorted(label for label in scene.labels if label != SILENCE)
    assert back.labels[: len(real)] == real
    assert not back.noise.any()


def _check_item(item, n):
    assert item["mixture"].shape == (4, n) and item["mixture"].dtype == torch.float32
    assert item["targets"].shape == (3, n)
    assert item["interference"].shape == (2, n)
    assert item["noise"].shape == (1, n)
    assert item["label_index"].shape == (3,) and item["label_index"].dtype == torch.long
    assert item["active"].dtype == torch.bool
    assert torch.equal(item["active"], item["label_index"] >= 0)


def test_synthesized_dataset_is_seeded_per_item_and_batches(toy_config, toy_bank):
    from engine.data import scenes

    key = (toy_config.rooms, "train", toy_config.room_seed, toy_config.room_cache_dir)
    scenes._BANKS[key] = toy_bank
    ds = SynthesizedScenes(4, toy_config, "train", base_seed=9)
    a, b = ds[2], ds[2]
    _check_item(a, toy_config.n_samples)
    assert torch.equal(a["mixture"], b["mixture"])
    assert not torch.equal(ds[1]["mixture"], a["mixture"])
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["mixture"].shape == (2, 4, toy_config.n_samples)
    with pytest.raises(IndexError):
        ds[4]


def test_folder_dataset_reads_written_scenes(tmp_path, toy_config, toy_bank):
    scene, _ = synthesize_scene_components(3, toy_config, "valid", room_bank=toy_bank)
    write_scene(scene, tmp_path, "a")
    ds = SceneFolder(tmp_path)
    item = ds[0]
    _check_item(item, toy_config.n_samples)
    expected = [CLASS_INDEX[lab] if lab != SILENCE else -1 for lab in scene.labels]
    assert item["label_index"].tolist() == expected
    assert torch.equal(item["mixture"], scene_to_tensors(scene)["mixture"])
    with pytest.raises(ValueError, match="no soundscapes"):
        SceneFolder(tmp_path / "empty")


def test_synthesized_dataset_works_in_dataloader_workers(toy_config, tmp_path):
    from engine.data.rooms import cached_room_bank

    # Workers find the bank in the disk cache (as with spawn, where no state is inherited).
    cached_room_bank(
        toy_config.rooms, "train", toy_config.room_seed, directory=toy_config.room_cache_dir
    )
    ds = SynthesizedScenes(4, toy_config, "train", base_seed=2)
    loader = DataLoader(ds, batch_size=2, num_workers=2)
    batches = list(loader)
    assert len(batches) == 2
    np.testing.assert_array_equal(batches[1]["mixture"][0].numpy(), ds[2]["mixture"].numpy())
