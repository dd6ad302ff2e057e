"""`scenesplit info`: versions, compute device, and where models and caches live."""

from __future__ import annotations

import argparse
import json
import platform


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `info` subcommand."""
    p = sub.add_parser("info", help="print versions, device, and model/cache locations")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def collect() -> dict:
    """The facts `info` prints."""
    import numpy
    import soundfile
    import soxr
    import torch

    from engine import __version__, paths

    cuda = torch.cuda.is_available()
    mamba_kernels = False
    if cuda:
        try:
            import mamba_ssm  # noqa: F401

            mamba_kernels = True
        except ImportError:
            pass
    bundle = paths.default_bundle_dir()
    return {
        "scenesplit": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "soundfile": soundfile.__version__,
        "libsndfile": soundfile.__libsndfile_version__,
        "soxr": soxr.__version__,
        "device": torch.cuda.get_device_name(0)
        if cuda
        else f"cpu ({torch.get_num_threads()} threads)",
        "cuda": torch.version.cuda if cuda else None,
        "mamba_ssm_kernels": mamba_kernels,
        "default_bundle": str(bundle),
        "default_bundle_present": (bundle / "bundle.json").is_file(),
        "example_recording": str(paths.example_recording()),
        "cache_dir": str(paths.cache_dir()),
    }


def run(args: argparse.Namespace) -> int:
    """Print the facts."""
    facts = collect()
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        width = max(map(len, facts))
        for key, value in facts.items():
            print(f"{key:<{width}}  {value}")
    return 0
