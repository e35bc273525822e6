"""A clone of this repository driven through the real commands (the shipping tests' one helper)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Clone:
    path: Path
    env: dict[str, str]
    repository: str
    name: str

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(args), cwd=self.path, env=self.env, capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def make(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A make target of the clone, run with this test run's environment (``STAMP=``: no re-sync of it)."""
        venv = str(Path(sys.executable).parent.parent)
        return self.run("make", "--no-print-directory", f"VENV={venv}", "STAMP=", *args, check=check)

    def mlship(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("mlship", *args, check=check)

    def git(self, *args: str) -> str:
        return self.run("git", *args).stdout.strip()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def build_image(self) -> str:
        """`make image` for HEAD: the model into the store, the bento, the OCI image. Returns the sha."""
        sha = self.head()
        self.mlship("store-model")
        self.run("bentoml", "build", "--version", sha[:12])
        self.mlship("deploy", "image", "--bento", f"{self.name}:{sha[:12]}", "--backend", "buildah")
        return sha

    def commit(self, message: str) -> str:
        self.git(
            "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-am", message
        )
        return self.head()
