"""`scenesplit corpus`: fetch, unpack and label real recordings from Debian packages; pack them."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add `corpus fetch|build|pack|list`."""
    p = sub.add_parser("corpus", help="build the offline source corpus from Debian packages")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("fetch", "download the packages' .deb files (apt-get download; nothing is installed)"),
        ("build", "unpack, label and convert to 32 kHz mono; write manifest.csv"),
    ):
        a = csub.add_parser(name, help=text)
        a.add_argument(
            "packages",
            nargs="*",
            help="packages (default: the small set; 'all' for every rule set)",
        )
        a.add_argument("--root", help="corpus folder (default: <cache>/corpus)")
        if name == "fetch":
            a.add_argument("--update", action="store_true", help="run apt-get update first")
        a.set_defaults(func=run)
    a = csub.add_parser("pack", help="write a compact OGG subset with its manifest")
    a.add_argument("--root", help="corpus folder (default: <cache>/corpus)")
    a.add_argument("--out", required=True, help="pack folder")
    a.add_argument("--max-mb", type=float, default=40.0)
    a.set_defaults(func=run)
    a = csub.add_parser("list", help="the package rule sets and what a manifest holds")
    a.add_argument("--root", help="corpus folder (default: <cache>/corpus)")
    a.set_defaults(func=run)


def _packages(names: list[str]) -> list[str]:
    from engine.data.corpus_rules import PACKAGES, SMALL_PACKAGES

    if not names:
        return list(SMALL_PACKAGES)
    return list(PACKAGES) if names == ["all"] else names


def _print_report(step: str, report) -> None:
    for p in report.done:
        print(f"{step}: {p}")
    for p in report.skipped:
        print(f"{step}: {p} (already done)")
    for p, why in report.failed.items():
        print(f"{step}: {p} skipped: {why}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Run one corpus action."""
    from pathlib import Path

    from engine.data import corpus

    root = Path(args.root) if args.root else corpus.corpus_dir()
    if args.action == "fetch":
        _print_report(
            "fetch", corpus.fetch(_packages(args.packages), root, update_first=args.update)
        )
    elif args.action == "build":
        packages = _packages(args.packages)
        _print_report("unpack", corpus.unpack(packages, root))
        manifest, report = corpus.build(packages, root)
        _print_report("build", report)
        _print_summary(corpus.read_manifest(manifest), manifest)
    elif args.action == "pack":
        out = corpus.pack(root / "manifest.csv", args.out, args.max_mb)
        _print_summary(corpus.read_manifest(out), out)
    else:
        from engine.data.corpus_rules import PACKAGES

        for p in PACKAGES.values():
            print(f"{p.package}: {p.licence}; labels {sorted({lab for _, lab in p.rules})}")
        if (root / "manifest.csv").exists():
            _print_summary(corpus.read_manifest(root / "manifest.csv"), root / "manifest.csv")
    return 0


def _print_summary(rows: list[dict], path) -> None:
    from engine.data.corpus import summarise

    print(f"{path}: {len(rows)} clips")
    for label, s in sorted(summarise(rows).items()):
        print(f"  {label:18s} {int(s['clips']):5d} clips {s['seconds'] / 60:7.1f} min")
