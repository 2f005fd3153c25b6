"""The `vaelab` command: data set-up and a report of what this machine has."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from . import data


def ensure(name: str) -> str:
    """Make sure the IDX files of `name` are present; returns where they are.

    Order: already on disk; Debian's package via apt-get (Fashion-MNIST, when apt-get exists and
    we are root); a checksum-verified download into the cache.
    """
    if not data.missing_files(name):
        return data.sources()[name]
    if name == "fashion-mnist" and shutil.which("apt-get") and os.geteuid() == 0:
        print("vaelab: installing Debian's dataset-fashion-mnist with apt-get", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "dataset-fashion-mnist"], check=False)
    data.fetch(name)  # downloads what is still missing (or says how to get it), verifies all
    return data.sources()[name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vaelab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("data", help="show where the data sets come from, or fetch one")
    d.add_argument("action", choices=["status", "fetch"])
    d.add_argument("name", nargs="?", choices=list(data.SHA256), default="fashion-mnist")
    args = parser.parse_args(argv)
    if args.action == "fetch":
        try:
            print(f"{args.name}: {ensure(args.name)}")
        except (FileNotFoundError, ValueError) as e:
            print(f"vaelab: {e}", file=sys.stderr)
            return 1
        return 0
    for name, where in data.sources().items():
        print(f"{name}: {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
