"""Shares of py-spy raw stacks (``py-spy record -f raw``).

    python spy_shares.py STACKS.txt PATTERN...

Prints the share of samples whose stack contains each PATTERN, then the frames with the most
samples (inclusive, ``TOP`` of them, 45 by default) and the most frequent leaf frames.
"""

from __future__ import annotations

import collections
import os
import re
import sys
from pathlib import Path

LINE_NUMBER = re.compile(r":\d+\)")


def main() -> None:
    path, patterns = Path(sys.argv[1]), sys.argv[2:]
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    matched: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        leaf[frames[-1]] += n
        for pattern in patterns:
            if pattern in stack:
                matched[pattern] += n
    print("total", total)
    for pattern in patterns:
        print(f"{100 * matched[pattern] / total:5.1f}% {pattern}")
    print("--- inclusive top")
    for frame, n in inclusive.most_common(int(os.environ.get("TOP", "45"))):
        print(f"{100 * n / total:5.1f}% {frame[:150]}")
    print("--- leaf top")
    for frame, n in leaf.most_common(20):
        print(f"{100 * n / total:5.1f}% {frame[:150]}")


if __name__ == "__main__":
    main()
