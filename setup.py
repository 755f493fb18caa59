"""Package discovery: every package under quiz_server/ (folders without __init__.py too, such as
the migration versions), and the folders the app serves.

templates/, static/, question_banks/, deploy/ (nginx.conf, which `quiz-server run --processes`
renders) and samples/ (the stage console's sample programme, the organisation file templates)
sit at the top of a checkout (so the app runs from one);
the wheel carries them inside the package as quiz_server/share/* (see quiz_server/config.py).
Everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

SHARED = ("templates", "static", "question_banks", "deploy", "samples")


def shared_folders() -> dict[str, str]:
    """`quiz_server.share.static.js` → `static/js`, for each shared folder and its subfolders."""
    folders = {}
    for top in SHARED:
        for folder in (Path(top), *sorted(p for p in Path(top).rglob("*") if p.is_dir())):
            folders[".".join(("quiz_server", "share", *folder.parts))] = folder.as_posix()
    return folders


shared = shared_folders()
setup(
    packages=[
        *find_namespace_packages(include=["quiz_server*"], exclude=["*.__pycache__"]),
        *shared,
    ],
    package_dir=shared,
    package_data={"quiz_server.migrations": ["script.py.mako"], **{name: ["*"] for name in shared}},
)
