"""The worker's job runner in the real server: the self-guided pipeline on the loaded bundle."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.audio import audio_info, parse_channel_selection
from engine.contract import DEFAULTS, operation_from_dict
from engine.pipeline.manifest import Manifest
from engine.pipeline.recording import separate_recording
from engine.pipeline.refine import refine_result
from engine.pipeline.separator import Separator
from engine.pipeline.windows import WindowSpec
from engine.progress import CancelToken, ProgressCallback
from engine.server.jobs import Job


class PipelineRunner:
    """Runs separate and refine jobs with one `Separator` whose models stay loaded.

    `threads` caps torch's CPU threads (set in the worker thread that runs the jobs); None
    keeps torch's default (all cores), which is right unless the machine is shared.
    """

    def __init__(self, separator: Separator, threads: int | None = None):
        self.separator = separator
        self.threads = threads

    def _separator(
        self, tse_rounds: int | None, batch_windows: int = DEFAULTS.batch_windows
    ) -> Separator:
        # Same loaded models, per-job settings; building it is cheap (no copies, no loading).
        if self.threads is not None and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        base = self.separator
        return Separator(
            base.bundle, str(base.device), tse_rounds=tse_rounds, batch_windows=batch_windows
        )

    def separate(
        self, job: Job, out_dir: Path, progress: ProgressCallback, cancel: CancelToken
    ) -> None:
        """Separate the job's input into `out_dir`."""
        opts = job.options
        channels = None
        if opts.get("channels"):
            n = audio_info(job.input_path).channels
            channels = parse_channel_selection(opts["channels"], n, job.input_path)
        try:
            separate_recording(
                self._separator(opts["tse_rounds"], opts["batch_windows"]),
                job.input_path,
                out_dir,
                window=WindowSpec(opts["window_s"], opts["hop_s"]),
                channels=channels,
                progress=progress,
                cancel=cancel,
            )
        finally:
            self._release()

    def refine(
        self,
        job: Job,
        base_dir: Path,
        out_dir: Path,
        version: int,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> None:
        """Apply the job's operation to `base_dir`, writing version `version` into `out_dir`."""
        base = Manifest.load(base_dir)
        try:
            refine_result(
                self._separator(base.options.get("tse_rounds")),
                base_dir,
                operation_from_dict(job.operation),
                out_dir,
                version=version,  # the folder number: refining an older version makes newest + 1
                base=base,
                progress=progress,
                cancel=cancel,
            )
        finally:
            self._release()

    def _release(self) -> None:
        if self.separator.device.type == "cuda":
            torch.cuda.empty_cache()
