"""tests/ mirrors the packages: a folder of tests stands for the package of the same path."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
OWN = {"fakes"}  # loopback fakes of servers nothing here can reach, and their own tests


def test_every_folder_of_tests_mirrors_a_package() -> None:
    strays = [
        folder.relative_to(TESTS).as_posix()
        for folder in TESTS.rglob("*")
        if folder.is_dir()
        and any(folder.glob("test_*.py"))
        and folder.relative_to(TESTS).parts[0] not in OWN
        and not (REPO / folder.relative_to(TESTS) / "__init__.py").is_file()
    ]
    assert strays == []
