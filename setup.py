"""Packaging hook (the metadata is in pyproject.toml).

The top-level ``migrations/`` and ``static/`` folders are part of the application, but they are
not Python packages, so setuptools would leave them out of the wheel and a non-editable install
(the Docker image) could neither migrate nor serve its static files. This copies them into the
built package as ``hub/_bundled/{migrations,static}``; ``hub.bundled_path`` finds them there, or
in the source checkout for an editable install."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("migrations", "static")


class BuildWithBundledFolders(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the folders from the checkout itself
        root = Path(__file__).resolve().parent
        for name in BUNDLED:
            target = Path(self.build_lib) / "hub" / "_bundled" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(root / name, target,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithBundledFolders})
