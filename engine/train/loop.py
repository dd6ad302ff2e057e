"""The one training loop of every module (nanoGPT-like: reads top to bottom).

set up ranks -> task + model -> resume from `last.pt` -> DDP / compile -> for each step:
learning rate, batch, loss (bf16 autocast on GPU), backward, clip, step, log, validate and
checkpoint -> stop at the step count, the time budget or a cancel -> task.finish (e.g. SC
threshold calibration) on the best model.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.errors import Cancelled, ScenesplitError
from engine.progress import CancelToken, Progress, ProgressCallback
from engine.train import data as train_data
from engine.train import distributed
from engine.train.checkpoints import (
    BEST,
    LAST,
    load_trainer_state,
    rng_state,
    save_run_checkpoint,
    set_rng_state,
    write_config,
)
from engine.train.config import OptimConfig, TrainConfig
from engine.train.logging import TrainLogger
from engine.train.schedule import lr_at, total_steps_of
from engine.train.tasks import make_task
from engine.train.tasks.base import Task

MAX_BAD_STEPS = 20


class TrainingError(ScenesplitError):
    """A run that cannot go on (diverged, mismatched resume state)."""


@dataclass
class TrainResult:
    """What a run did: its final step, losses of this run's steps, best metric and files."""

    step: int
    start_step: int
    losses: list[float] = field(default_factory=list)
    valid: list[dict[str, float]] = field(default_factory=list)
    best: float | None = None
    final: dict[str, float] = field(default_factory=dict)
    stopped: str = "done"  # "done", "time", "cancelled"
    out_dir: Path | None = None
    model: nn.Module | None = None


def make_optimizer(model: nn.Module, optim: OptimConfig, device: torch.device):
    """AdamW; no weight decay on biases, norms, embeddings' 1-D parameters."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    if not decay and not no_decay:
        raise TrainingError("the model has no trainable parameters")
    groups = [
        {"params": decay, "weight_decay": optim.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    kwargs: dict[str, Any] = {"lr": optim.lr, "betas": optim.betas}
    if device.type == "cuda":
        kwargs["fused"] = True
    return torch.optim.AdamW(groups, **kwargs)


def _wrap(model: nn.Module, config: TrainConfig, dist: distributed.DistInfo) -> nn.Module:
    wrapped = model
    if config.compile:
        wrapped = torch.compile(wrapped)
    if dist.distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [dist.device.index] if dist.device.type == "cuda" else None
        wrapped = DDP(wrapped, device_ids=ids, find_unused_parameters=config.find_unused_parameters)
    return wrapped


def _resume(
    path: Path, model: nn.Module, optimizer, task: Task, config: TrainConfig
) -> tuple[int, float | None, float, int]:
    data = load_trainer_state(path)
    saved_task = data["extra"].get("train", {}).get("task")
    if data["model"] != task.model_name or saved_task != config.name:
        raise TrainingError(
            f"{path}: holds a {saved_task} run of {data['model']}, not {config.name}; "
            "use another --out folder"
        )
    try:
        model.load_state_dict(data["state_dict"])
    except RuntimeError as exc:
        raise TrainingError(f"{path}: model does not match the config ({exc})") from None
    trainer = data["extra"]["trainer"]
    optimizer.load_state_dict(trainer["optimizer"])
    set_rng_state(trainer["rng"])
    step = int(trainer["step"])
    # Runs from before the counter existed trained with this config's batch size throughout.
    scenes = int(trainer.get("scenes", step * config.data.batch_size))
    return step, trainer.get("best"), float(trainer.get("cpu_s", 0.0)), scenes


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    echo=None,
) -> TrainResult:
    """Train `config`'s task into `out_dir` (resuming from its `last.pt`); see the module doc.

    Under torchrun every rank calls this; rank 0 writes checkpoints and logs. Raises `Cancelled`
    (after saving `last.pt`) when `cancel` is set.
    """
    out_dir = Path(out_dir)
    dist = distributed.init_distributed(config.device)
    log = TrainLogger(out_dir, enabled=dist.is_main, echo=echo)
    device = dist.device

    torch.manual_seed(config.seed)  # same initial weights on every rank
    task = make_task(config, dist)
    task.out_dir = out_dir
    model = task.build_model().to(device)
    task.setup(model)
    optimizer = make_optimizer(model, config.optim, device)
    total = total_steps_of(config, dist.world_size)

    step, best, cpu_s_before, scenes_before = 0, None, 0.0, 0
    last_path = out_dir / LAST
    if resume and last_path.is_file():
        step, best, cpu_s_before, scenes_before = _resume(last_path, model, optimizer, task, config)
        log.text(f"resumed from {last_path} at step {step}")
    else:
        for line in task.start_fresh(model):
            log.text(line)
        torch.manual_seed(config.seed + 1000 * dist.rank)
    start_step = step
    if dist.is_main:
        write_config(out_dir, config)
    n_params = sum(p.numel() for p in model.parameters())
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.text(
        f"{config.name}: {task.model_name}/{config.model} {n_params / 1e6:.2f} M params "
        f"({n_train / 1e6:.2f} M trained) on {device} x{dist.world_size}, steps {step}->{total}"
    )

    # Data: rooms and the validation set are built once by rank 0, the others wait.
    if dist.is_main:
        train_data.prepare(config.data, progress, cancel)
    distributed.barrier()
    valid_root = train_data.valid_dir(config.data)
    valid_loader = train_data.valid_loader(
        valid_root, config.data, rank=dist.rank, world_size=dist.world_size
    )
    loader = train_data.train_loader(
        config.data,
        rank=dist.rank,
        world_size=dist.world_size,
        start_step=step,
        total_steps=total,
        pin_memory=device.type == "cuda",
    )

    wrapped = _wrap(model, config, dist)
    params = [p for p in model.parameters() if p.requires_grad]
    result = TrainResult(step=step, start_step=start_step, best=best, out_dir=out_dir, model=model)
    budget_s = config.max_minutes * 60 if config.max_minutes > 0 else None
    t_start = time.monotonic()
    t_log, step_log = t_start, step
    bad_steps = 0
    last_valid: dict[str, float] = {}

    cpu_start = time.process_time()

    def cpu_s() -> float:
        """CPU seconds of this training process over every run of this folder (all ranks' share
        is this rank's times the world size), the x axis of CPU-tier learning curves."""
        return cpu_s_before + (time.process_time() - cpu_start) * dist.world_size

    def save_last(metrics: dict[str, float]) -> None:
        trainer = {
            "optimizer": optimizer.state_dict(),
            "step": step,
            "best": best,
            "rng": rng_state(),
            "cpu_s": cpu_s(),
            "scenes": scenes_seen(),
        }
        save_run_checkpoint(last_path, model, config, step, metrics, trainer)

    def scenes_seen() -> int:
        """Training scenes over every run of this folder (batch sizes may differ between runs:
        a GPU session resumes a CPU campaign with larger batches)."""
        return scenes_before + (step - start_step) * config.data.batch_size * dist.world_size

    def counters() -> dict[str, float]:
        values = {"cpu_hours": cpu_s() / 3600, "scenes": float(scenes_seen())}
        if device.type == "cuda":
            values["gpu_peak_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        return values

    batches = iter(loader)
    while step < total:
        # -- learning rate of this step
        time_fraction = (
            (time.monotonic() - t_start) / budget_s
            if budget_s is not None and config.optim.time_schedule
            else 0.0
        )
        lr = lr_at(step, config.optim, total, time_fraction)
        for group in optimizer.param_groups:
            group["lr"] = lr
        # -- batch, loss, backward, clip, step
        # Overfit mode repeats step 0 exactly, batch-level randomness included.
        data_step = 0 if config.data.overfit else step
        batch = task.prepare_batch(
            next(batches), train_data.step_generator(config.seed, data_step, dist.rank)
        )
        model.train()
        with task.autocast():
            loss, parts = task.loss(wrapped, batch)
        optimizer.zero_grad(set_to_none=True)
        # Always backward (DDP all-reduces inside it, so every rank must); a non-finite loss
        # on any rank makes the reduced gradient norm non-finite everywhere, and every rank
        # then skips the same update.
        loss.backward()
        max_norm = config.optim.grad_clip if config.optim.grad_clip > 0 else float("inf")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        if math.isfinite(grad_norm):
            optimizer.step()
            bad_steps = 0
        else:
            bad_steps += 1
        if bad_steps >= MAX_BAD_STEPS:
            raise TrainingError(
                f"{MAX_BAD_STEPS} steps in a row with a non-finite loss or gradient"
            )
        step += 1
        task.after_step(model, step)
        loss_value = float(loss.detach())
        result.losses.append(loss_value)
        result.step = step

        # -- log
        if step % config.log_every == 0 or step == total:
            now = time.monotonic()
            rate = (step - step_log) / max(now - t_log, 1e-9)
            t_log, step_log = now, step
            log.scalars(
                "train",
                step,
                {"loss": loss_value, "lr": lr, "grad_norm": grad_norm, **parts, **counters()},
            )
            if progress is not None:
                progress(
                    Progress(
                        "train",
                        step - start_step,
                        total - start_step,
                        f"step {step}/{total} loss {loss_value:.3f} lr {lr:.2e} {rate:.2f} it/s"
                        + (
                            f" budget left {max(0.0, budget_s - (now - t_start)) / 60:.1f} min"
                            if budget_s is not None
                            else ""
                        ),
                        now - t_start,
                    )
                )

        # -- stop? (rank 0 decides, so every rank leaves the loop at the same step)
        elapsed = time.monotonic() - t_start
        reason = 0
        if cancel is not None and cancel.cancelled:
            reason = 2
        elif budget_s is not None and elapsed >= budget_s:
            reason = 1
        reason = distributed.broadcast_int(reason, device)
        if reason == 2:
            if dist.is_main:
                save_last(last_valid)
            result.stopped = "cancelled"
            log.text(f"cancelled at step {step}; {last_path} saved")
            log.close()
            raise Cancelled(f"training cancelled at step {step} (resume with the same --out)")
        stop_now = reason == 1

        # -- validate and checkpoint
        if step % config.valid_every == 0 or step == total or stop_now:
            model.eval()
            with task.autocast():
                metrics = {**task.validate(model, valid_loader), **counters()}
            last_valid = metrics
            result.valid.append({"step": step, **metrics})
            value = metrics[task.metric]
            improved = task.better(value, best)
            if improved:
                best = value
                result.best = best
            log.scalars("valid", step, metrics)
            log.text(
                f"step {step}: "
                + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
                + (" (best)" if improved else "")
            )
            if dist.is_main:
                if improved:
                    save_run_checkpoint(out_dir / BEST, model, config, step, metrics)
                save_last(metrics)
            log.flush()
        if stop_now:
            result.stopped = "time"
            log.text(f"time budget of {config.max_minutes:g} min reached at step {step}")
            break

    distributed.barrier()
    result.final = _finish(task, model, out_dir, config, valid_loader, log, dist)
    log.close()
    return result


def _finish(
    task: Task,
    model: nn.Module,
    out_dir: Path,
    config: TrainConfig,
    valid_loader,
    log: TrainLogger,
    dist: distributed.DistInfo,
) -> dict[str, float]:
    """Run the task's post-training step on the best weights and store its results in best.pt."""
    best_path = out_dir / BEST
    if not best_path.is_file():
        return {}
    data = torch.load(best_path, map_location=dist.device, weights_only=True)
    model.load_state_dict(data["state_dict"])
    model.eval()
    final = task.finish(model, valid_loader)
    if final and dist.is_main:
        metrics = {**data["extra"]["train"]["metrics"], **final}
        save_run_checkpoint(best_path, model, config, int(data["step"]), metrics)
        log.scalars("final", int(data["step"]), final)
        log.text("final: " + ", ".join(f"{k} {v:.4g}" for k, v in final.items()))
    return final
