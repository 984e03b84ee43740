"""Write baseline.csv for the sample night's 15 Staffordshire and Cheshire constituencies.

The rows come from the 2019 notional results (shares, turnout, winner) with the 2024 register as
electorate, via ``countnight.ge2024.build_baseline``. Run from anywhere:

    .venv/bin/python scripts/make_sample_baseline.py [DATA_DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from countnight.baseline import write_baseline
from countnight.errors import InputError
from countnight.ge2024 import build_baseline

REPO = Path(__file__).resolve().parents[1]

SAMPLE_CONSTITUENCIES: tuple[str, ...] = (
    "Burton and Uttoxeter",
    "Cannock Chase",
    "Congleton",
    "Crewe and Nantwich",
    "Kingswinford and South Staffordshire",
    "Lichfield",
    "Newcastle-under-Lyme",
    "Stafford",
    "Staffordshire Moorlands",
    "Stoke-on-Trent Central",
    "Stoke-on-Trent North",
    "Stoke-on-Trent South",
    "Stone, Great Wyrley and Penkridge",
    "Tamworth",
)


def main(argv: list[str] | None = None) -> int:
    """Build the sample baseline and write it; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=REPO.parent / "shared/data/ge2024")
    parser.add_argument("--out", type=Path, default=REPO / "baseline.csv")
    args = parser.parse_args(argv)
    try:
        rows = build_baseline(args.data_dir, constituencies=SAMPLE_CONSTITUENCIES)
    except (InputError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    write_baseline(rows, args.out)
    print(f"wrote {len(rows)} constituencies to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
