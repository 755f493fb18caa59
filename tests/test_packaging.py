"""The wheel carries every module and every file the app serves, without a hand-kept list."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_module_template_static_file_and_bank(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
         "-w", str(tmp_path), str(ROOT)],
        check=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "quiz_server").rglob("*.py")}
    shared = {
        f"quiz_server/share/{p.relative_to(ROOT).as_posix()}"
        for top in ("templates", "static", "question_banks", "deploy", "samples")
        for p in (ROOT / top).rglob("*")
        if p.is_file()
    }
    assert modules - names == set()
    assert shared - names == set()
    assert "quiz_server/migrations/script.py.mako" in names
    assert "quiz_server/share/samples/stage-programme.yaml" in names  # the console's stage form
