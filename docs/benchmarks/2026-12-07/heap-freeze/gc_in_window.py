"""The garbage collector's seconds per process inside a mix probe's window.

    python gc_in_window.py GC_FOLDER START_EPOCH END_EPOCH

Reads the ``gc-<pid>.txt`` files ``gc_site/sitecustomize.py`` wrote and prints, for each process
that ran through the window, the collections and seconds per generation between the samples
nearest its start and end.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    folder, start, end = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    for path in sorted(folder.glob("gc-*.txt")):
        lines = path.read_text().splitlines()
        command, samples = lines[0], [line.split() for line in lines[1:]]
        before = [s for s in samples if float(s[0]) <= start]
        after = [s for s in samples if float(s[0]) >= end]
        if not before or not after:
            continue
        first, last = before[-1], after[0]
        parts = []
        for generation in range(3):
            n0, s0 = first[1 + generation].split(":")
            n1, s1 = last[1 + generation].split(":")
            parts.append(f"gen{generation} {int(n1) - int(n0)} / {float(s1) - float(s0):.2f} s")
        span = float(last[0]) - float(first[0])
        print(f"{command[:70]:70s} over {span:.0f} s: {', '.join(parts)}; frozen {last[4]}")


if __name__ == "__main__":
    main()
