"""Does this interpreter's environment hold exactly the lock, no more, no less?

    .venv/bin/python requirements/check_venv.py [requirements/lock.txt]

Compares every ``name==version`` line of the lock with the installed distributions (the
project itself aside) and prints what is missing, extra or at another version; exits 1 if
anything is. ``make install`` runs it last, so a venv that drifted from the lock (a package
installed by hand, one the lock dropped) is said, not silently tested.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

PROJECT = "soulchat"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            pins[normalise(match[1])] = match[2]
    return pins


def installed() -> dict[str, str]:
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[normalise(name)] = dist.version
    found.pop(PROJECT, None)
    return found


def differences(pins: dict[str, str], present: dict[str, str]) -> list[str]:
    lines = [f"missing: {n}=={v}" for n, v in sorted(pins.items()) if n not in present]
    lines += [f"not in the lock: {n}=={v}" for n, v in sorted(present.items()) if n not in pins]
    lines += [
        f"{n}: {present[n]} installed, {v} locked"
        for n, v in sorted(pins.items())
        if n in present and present[n] != v
    ]
    return lines


def main() -> int:
    lock = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("lock.txt"))
    pins = locked(lock)
    problems = differences(pins, installed())
    if problems:
        print(f"{sys.prefix} differs from {lock}:", *problems, sep="\n  ", file=sys.stderr)
        print("rebuild it from the lock: make clean install", file=sys.stderr)
        return 1
    print(f"{sys.prefix}: {len(pins)} packages, exactly as {lock} pins them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
