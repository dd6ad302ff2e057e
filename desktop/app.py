"""`scenesplit app`: the QApplication, the main window assembled from its parts, and `main()`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from desktop.engine_link import EngineLink, EngineSettings, make_engine


@dataclass
class AppOptions:
    """What the editor starts with."""

    file: str | None = None
    example: str | None = None
    """Opened when no file is given (the bundled example recording, if present)."""
    engine: EngineSettings = field(default_factory=EngineSettings)
    use_engine: bool = True
    cache_dir: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The editor's options (`scenesplit app`, `scenesplit-app`, `python -m desktop.app`)."""
    parser.add_argument("file", nargs="?", help="recording or .scenesplit project to open")
    parser.add_argument("--engine-url", help="use a running engine (scenesplit serve) at this URL")
    parser.add_argument("--token-file", help="token file of that engine")
    parser.add_argument("--device", default="auto", help="device of a local engine (auto/cpu/cuda)")
    parser.add_argument("--bundle", help="model bundle of a local engine")
    parser.add_argument("--workdir", help="work directory of a local engine")
    parser.add_argument("--no-engine", action="store_true", help="view and play files only")
    parser.add_argument(
        "--open-example",
        action="store_true",
        help="with no FILE, open the bundled example recording (what `scenesplit app` does)",
    )


def options_from_args(args: argparse.Namespace, example: str | None = None) -> AppOptions:
    """AppOptions from parsed arguments."""
    return AppOptions(
        file=args.file,
        example=example,
        engine=EngineSettings(
            url=args.engine_url,
            token_file=args.token_file,
            workdir=args.workdir,
            bundle=args.bundle,
            device=args.device,
        ),
        use_engine=not args.no_engine,
    )


def create_window(options: AppOptions, engine_factory=None):
    """Build the editor (session, engine link, player, window); starts the engine link.

    `engine_factory` replaces the LocalEngine/RemoteEngine choice (tests pass fakes).
    """
    from desktop.playback import Player
    from desktop.session import Session
    from desktop.window import MainWindow

    link = None
    if options.use_engine:
        settings = options.engine
        link = EngineLink(
            engine_factory or (lambda: make_engine(settings)),
            where=settings.describe(),
            local_workdir=None if engine_factory else settings.local_workdir(),
        )
    session = Session(link, options.cache_dir)
    window = MainWindow(session, Player())
    window.engine_settings = options.engine
    if link is not None:
        link.start()
    path = options.file or (
        options.example if options.example and Path(options.example).is_file() else None
    )
    if path:
        window.open_path(path)
    return window


def run_app(options: AppOptions) -> int:
    """Run the editor until its window closes; returns the exit code."""
    from PyQt6.QtWidgets import QApplication

    from desktop import theme, workers

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Scenesplit")
    app.setOrganizationName("Scenesplit")
    from desktop.settings import load_engine_settings

    theme.apply(app)
    options.engine = load_engine_settings(options.engine)
    window = create_window(options)
    window.show()
    code = app.exec()
    workers.wait_all(5000)
    return code


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the editor."""
    parser = argparse.ArgumentParser(prog="scenesplit app", description="The Scenesplit editor.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_app(options_from_args(args, bundled_example() if args.open_example else None))


def bundled_example() -> str | None:
    """The example recording the engine ships, if this installation has one."""
    try:
        from engine.client import example_recording
    except ImportError:  # pragma: no cover - the editor without the engine package
        return None
    path = example_recording()
    return str(path) if path.is_file() else None


if __name__ == "__main__":
    sys.exit(main())
