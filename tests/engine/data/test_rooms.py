import numpy as np

from engine.data.rooms import RoomConfig, build_room_bank, cached_room_bank, load_room_bank


def _direction(rir):
    """Direction (x, y, z) of the direct path from the FOA RIR peak."""
    k = int(np.argmax(np.abs(rir[0])))
    w, y, z, x = rir[:, k]
    v = np.array([x, y, z]) / w
    return v / np.linalg.norm(v)


def test_foa_rir_encodes_the_source_direction(toy_bank):
    for room in range(toy_bank.n_rooms):
        info = toy_bank.info[room]
        for s in range(3):
            d = np.asarray(info["sources"][s]) - np.asarray(info["mic"])
            d /= np.linalg.norm(d)
            assert np.dot(_direction(toy_bank.rir(room, s)), d) > 0.97


def test_tail_decays_with_rt60(toy_bank):
    r = toy_bank.rir(0, 0)[0]
    rt60 = toy_bank.info[0]["rt60"]
    early = np.mean(r[: len(r) // 4] ** 2)
    late = np.mean(r[-len(r) // 4 :] ** 2)
    assert late < early * 1e-2
    assert len(r) >= int(0.9 * rt60 * 32000)


def test_bank_is_cached_and_reproducible(tmp_path):
    cfg = RoomConfig(n_rooms=1, sources_per_room=2, max_order=1, max_seconds=0.2, method="analytic")
    a = cached_room_bank(cfg, "valid", 5, directory=tmp_path)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    b = load_room_bank(files[0])
    np.testing.assert_array_equal(a.rirs, b.rirs)
    np.testing.assert_array_equal(a.rirs, build_room_bank(cfg, "valid", 5).rirs)
    assert not np.array_equal(a.rirs, build_room_bank(cfg, "test", 5).rirs)


def _save_many(path, bank, n):
    from engine.data.rooms import save_room_bank

    for _ in range(n):
        save_room_bank(bank, path)


def test_two_processes_writing_the_same_bank_both_succeed(tmp_path):
    # Two trainers started at once on a fresh machine simulate and save the same bank.
    import multiprocessing

    cfg = RoomConfig(n_rooms=1, sources_per_room=1, max_order=1, max_seconds=0.2, method="analytic")
    bank = build_room_bank(cfg, "valid", 1)
    path = tmp_path / "rooms.npz"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_save_many, args=(path, bank, 30)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    np.testing.assert_array_equal(load_room_bank(path).rirs, bank.rirs)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["rooms.npz"]
