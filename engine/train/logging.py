"""Training logs of rank 0: TensorBoard scalars, a JSON-lines metrics file and console lines.

Other ranks get a disabled logger, so the loop calls it unconditionally.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"
LOG_FILE = "train.log"


class TrainLogger:
    """Writes scalars to `out/tb` (TensorBoard), `out/metrics.jsonl` and text to `out/train.log`."""

    def __init__(
        self,
        out_dir: Path,
        enabled: bool = True,
        echo: Callable[[str], None] | None = None,
        tensorboard: bool = True,
    ) -> None:
        self.enabled = enabled
        self.out_dir = Path(out_dir)
        self.echo = echo if echo is not None else (lambda s: print(s, file=sys.stderr))
        self._tb = None
        if not enabled:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional (the "train" extra)
                self.text("tensorboard is not installed: scalars go to metrics.jsonl only")
            else:
                self._tb = SummaryWriter(str(self.out_dir / "tb"))

    def text(self, message: str) -> None:
        """One line to the console and to train.log."""
        if not self.enabled:
            return
        stamp = time.strftime("%H:%M:%S")
        line = f"[{stamp}] {message}"
        self.echo(line)
        with open(self.out_dir / LOG_FILE, "a") as f:
            f.write(line + "\n")

    def scalars(self, kind: str, step: int, values: dict[str, Any]) -> None:
        """Record `values` (numbers) under `kind/` ("train", "valid", ...) at `step`."""
        if not self.enabled:
            return
        numbers = {k: float(v) for k, v in values.items() if isinstance(v, int | float)}
        if self._tb is not None:
            for key, value in numbers.items():
                self._tb.add_scalar(f"{kind}/{key}", value, step)
        with open(self.out_dir / METRICS_FILE, "a") as f:
            f.write(json.dumps({"kind": kind, "step": step, "time": time.time(), **numbers}) + "\n")

    def flush(self) -> None:
        """Push pending TensorBoard events to disk."""
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        """Flush and close the TensorBoard writer."""
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def read_metrics(out_dir: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """The records of a run's metrics.jsonl (optionally of one kind)."""
    path = Path(out_dir) / METRICS_FILE
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if kind is None or r["kind"] == kind]
