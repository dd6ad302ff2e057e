import numpy as np
import pytest

from engine.metrics import (
    ClassCounts,
    ca_sdri,
    confusion_matrix,
    label_accuracy,
    sa_sdr,
    si_sdr,
    snr,
    snr_improvement,
)

N = 8


def unit(i, scale=1.0):
    v = np.zeros(N)
    v[i] = scale
    return v


# Orthogonal pieces make every SNR a hand-computable number:
# ref = e0; an estimate with error sqrt(0.1) e1 has SNR 10 dB; the mixture ref + e2 has 0 dB.
REF_A, REF_C = unit(0), unit(3)
EST_A = unit(0) + unit(1, np.sqrt(0.1))
MIX = unit(0) + unit(2) + unit(3) + unit(4)  # SNR(MIX, REF_A) = 10 log10(1/3)


def test_snr_of_scaled_references():
    ref = np.sin(np.arange(100))
    assert snr(0.5 * ref, ref) == pytest.approx(20 * np.log10(2), abs=1e-6)  # 6.02 dB
    assert snr(2 * ref, ref) == pytest.approx(0.0, abs=1e-6)
    assert snr(ref, ref) > 80  # capped by eps, not infinite
    assert si_sdr(2 * ref, ref) > 80  # scale-invariant


def test_sa_sdr_matches_definition():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(3, 50))
    est = ref + 0.3 * rng.normal(size=(3, 50))
    expected = 10 * np.log10(np.sum(ref**2) / np.sum((ref - est) ** 2))
    assert sa_sdr(est, ref) == pytest.approx(expected, abs=1e-5)
    # not the mean of per-source SDRs when sources differ in level
    ref[0] *= 10
    est = ref + 0.3 * rng.normal(size=(3, 50))
    assert sa_sdr(est, ref) != pytest.approx(np.mean(snr(est, ref)), abs=0.1)


def test_snr_improvement():
    assert snr_improvement(EST_A, REF_A, MIX) == pytest.approx(10 - 10 * np.log10(1 / 3), abs=1e-4)


def test_ca_sdri_tp_fp_fn():
    p_a = 10 - 10 * np.log10(1 / 3)
    # one TP only
    assert ca_sdri({"Speech": EST_A}, {"Speech": REF_A}, MIX) == pytest.approx(p_a, abs=1e-4)
    # TP + FP + FN: the FP and FN count zero but enlarge the denominator
    est = {"Speech": EST_A, "Doorbell": unit(5), "silence": np.zeros(N)}
    ref = {"Speech": REF_A, "Typing": REF_C, "silence": np.zeros(N)}
    assert ca_sdri(est, ref, MIX) == pytest.approx(p_a / 3, abs=1e-4)
    # all wrong: zero
    assert ca_sdri({"Doorbell": EST_A}, {"Speech": REF_A}, MIX) == 0.0
    # nothing on either side (silence only)
    assert ca_sdri({"silence": np.zeros(N)}, {}, MIX) == 0.0


def test_label_accuracy_requires_exact_sets():
    pred = [["Speech", "silence"], ["Speech", "Typing"], ["Doorbell"]]
    ref = [["Speech"], ["Speech"], ["Doorbell", "silence", "silence"]]
    assert label_accuracy(pred, ref) == pytest.approx(2 / 3)


def test_class_counts_and_confusion():
    counts = ClassCounts()
    counts.add(["Speech", "Typing"], ["Speech"])
    counts.add(["Speech"], ["Speech", "Dishes"])
    assert counts.precision("Speech") == 1.0 and counts.recall("Speech") == 1.0
    assert counts.precision("Typing") == 0.0 and counts.recall("Typing") is None
    assert counts.recall("Dishes") == 0.0
    m = confusion_matrix(
        ["Speech", "Speech", "silence"],
        ["Speech", "Typing", "silence"],
        labels=["Speech", "Typing", "silence"],
    )
    assert m.tolist() == [[1, 1, 0], [0, 0, 0], [0, 0, 1]]
