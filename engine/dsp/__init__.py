"""Signal processing shared by models and pipeline: the method's STFT and long-signal windows."""

from engine.dsp.segments import WindowPlan, blend_weight, overlap_add, segment
from engine.dsp.stft import from_real_imag, istft, n_frames, stft, to_real_imag

__all__ = [
    "WindowPlan",
    "blend_weight",
    "from_real_imag",
    "istft",
    "n_frames",
    "overlap_add",
    "segment",
    "stft",
    "to_real_imag",
]
