"""The installed package is what production runs: its wheel must carry every migration."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSIONS = "mistral/db/migration/alembic_migrations/versions"


@pytest.mark.timeout(300)
def test_the_wheel_carries_every_migration(tmp_path: pathlib.Path) -> None:
    # NOTE: built from a copy: setuptools reuses a build/ folder left in the tree, which can
    # hold files the package data no longer names.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__"))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"{VERSIONS}/{p.name}" for p in (ROOT / VERSIONS).glob("*.py")}
    assert wanted and wanted <= packed, sorted(wanted - packed)
    assert "mistral/db/migration/alembic_migrations/script.py.mako" in packed
