"""Packaging is declared in setup.cfg; this only records the git commit a wheel is built from."""

import os
import subprocess

import setuptools
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def _git_commit():
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None  # an sdist, or no git: GET /v2/info then names the version instead
    lines = done.stdout.split()
    # NOTE: only this checkout's commit: an sdist unpacked inside another repository is not it.
    if len(lines) != 2 or os.path.realpath(lines[0]) != os.path.realpath(HERE):
        return None
    return lines[1]


class BuildWithCommit(build_py):
    """``mistral/_build.py`` (``COMMIT = "<sha>"``) in the built package, never in the source tree.

    An editable install runs the source tree itself, which has no build module: nothing to write.
    """

    def run(self):
        super().run()
        commit = _git_commit()
        if commit and not self.dry_run and not getattr(self, "editable_mode", False):
            target = os.path.join(self.build_lib, "mistral", "_build.py")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as out:
                out.write(f'"""Written by setup.py at build time."""\n\nCOMMIT = "{commit}"\n')


setuptools.setup(cmdclass={"build_py": BuildWithCommit})
