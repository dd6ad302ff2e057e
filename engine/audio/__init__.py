"""Audio I/O: reading any libsndfile format at 32 kHz, channel layouts, atomic writing, BWF."""

from engine.audio.bwf import read_bext
from engine.audio.layout import LAYOUTS, Layout, infer_layout, parse_channel_selection, to_foa
from engine.audio.reader import AudioInfo, audio_info, iter_blocks, read_audio, read_frames, scan
from engine.audio.writer import StemWriter, write_audio

__all__ = [
    "LAYOUTS",
    "AudioInfo",
    "Layout",
    "StemWriter",
    "audio_info",
    "infer_layout",
    "iter_blocks",
    "parse_channel_selection",
    "read_audio",
    "read_bext",
    "read_frames",
    "scan",
    "to_foa",
    "write_audio",
]
