"""Where the CPU went, from the collapsed stacks `live_load.py --profile FILE` writes (py-spy's
raw format: one `frame;frame;… count` line per distinct stack, outermost frame first).

    python benchmarks/stacks.py FILE [--top 25]

Prints the functions with the most samples on top of the stack (self), the most samples anywhere
on the stack (inclusive), and the share of each package, all as percentages of busy samples.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]+)(?::\d+)?\)$")


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def name(frame: str) -> tuple[str, str]:
    """(function with its file, package) of one frame such as `f (pkg/mod.py:12)`."""
    found = FRAME.match(frame)
    if not found:
        return frame, frame
    file = found["file"]
    return f"{found['func']} ({file})", file.split("/")[0].removesuffix(".py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    stacks = parse(args.file)
    total = sum(n for _, n in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    for frames, n in stacks:
        func, package = name(frames[-1])
        own[func] += n
        packages[package] += n
        for seen in {name(f)[0] for f in frames}:
            inclusive[seen] += n
    print(f"{total} busy samples")
    for title, counts in (("self", own), ("inclusive", inclusive), ("package (self)", packages)):
        print(f"\n{title}:")
        for key, n in counts.most_common(args.top):
            print(f"{n / total:>7.1%}  {key}")


if __name__ == "__main__":
    main()
