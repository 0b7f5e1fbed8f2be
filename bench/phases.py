"""What the aid benchmarks share: each measured phase runs in a fresh subprocess of the
same script (``--phase NAME --folder DIR``), which prints one JSON line with its result
and its peak memory."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(script: str, folder: Path, name: str) -> dict:
    """Run phase ``name`` of ``script`` in a fresh interpreter and return its JSON result.

    Exits the benchmark with the phase's stderr when the phase fails.
    """
    out = subprocess.run([sys.executable, script, "--phase", name, "--folder", str(folder)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.exit(f"phase {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def add_phase_options(parser: argparse.ArgumentParser) -> None:
    """Add the ``--keep`` option and the hidden ``--phase``/``--folder`` ones."""
    parser.add_argument("--keep", type=Path, default=None, help="build in (and keep) this folder")
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, default=None, help=argparse.SUPPRESS)


def print_phase(result: dict) -> int:
    """Print a phase's result with its peak memory (``maxrss_mb``) as one JSON line."""
    result["maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, ensure_ascii=False))
    return 0
