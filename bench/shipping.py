"""Shipping timings: base image, image builds, push, staging, release, rollback, merge → staging.

Run after `make repro` (the trained model is copied into a fresh clone) with the container tools installed
(deploy/local/install.sh):  .venv/bin/python bench/shipping.py
Everything happens in a temporary clone, a temporary registry and free loopback ports; a throw-away base
image tag makes the first build a cold one (no layer of it is cached).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mlship.config import load_params
from mlship.deploy import registry, runner

ROOT = Path(__file__).resolve().parent.parent
BASE = "localhost/mlship-pybase:bench"


def timed(label: str, results: dict[str, float], action: Callable[[], object]) -> None:
    start = time.perf_counter()
    action()
    results[label] = time.perf_counter() - start
    print(f"{label:<55} {results[label]:7.1f} s", flush=True)


def main() -> None:  # noqa: PLR0915 -- one linear script of timed steps
    params = load_params(ROOT / "params.yaml")
    name = params.service.name
    scratch = Path(tempfile.mkdtemp(prefix="mlship-bench-"))
    repo = scratch / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    text = (repo / "params.yaml").read_text(encoding="utf-8")
    for environment, config in params.deploy.environments.items():
        text = re.sub(
            rf"(\n    {environment}:\n      port: ){config.port}", rf"\g<1>{runner.free_port()}", text
        )
    (repo / "params.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "models", repo / "models")
    port = runner.free_port()
    runner.registry_up(scratch / "registry", port)
    env = {
        **os.environ,
        "BENTOML_HOME": str(scratch / "bentoml"),
        "MLSHIP_REGISTRY": f"127.0.0.1:{port}/{name}",
        "MLSHIP_BASE_IMAGE": BASE,
        "MLSHIP_PARAMS": str(repo / "params.yaml"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]

    def run(*args: str) -> str:
        return subprocess.run(
            list(args), cwd=repo, env=env, check=True, capture_output=True, text=True
        ).stdout

    def commit(message: str) -> str:
        run("git", *identity, "commit", "--quiet", "--allow-empty", "-am", message)
        return run("git", "rev-parse", "HEAD").strip()

    def build() -> None:
        sha = run("git", "rev-parse", "HEAD").strip()
        run("mlship", "store-model")
        run("bentoml", "build", "--version", sha[:12])
        run("mlship", "deploy", "image", "--bento", f"{name}:{sha[:12]}", "--backend", "buildah")

    results: dict[str, float] = {}
    try:
        commit("environments on free ports")
        base_env = {**env, "BASE_IMAGE_REBUILD": "1"}
        timed(
            "base image (debootstrap + import)",
            results,
            lambda: subprocess.run(
                [str(ROOT / "deploy/local/base-image.sh"), BASE], env=base_env, check=True
            ),
        )
        timed("make image, cold (no cached layer; every package installed)", results, build)
        sha = run("git", "rev-parse", "HEAD").strip()
        size = subprocess.run(
            ["podman", "image", "inspect", f"localhost/{name}:sha-{sha[:12]}", "--format", "{{.Size}}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        timed("mlship deploy push (first image)", results, lambda: run("mlship", "deploy", "push"))
        timed("mlship deploy staging (first deployment)", results, lambda: run("mlship", "deploy", "staging"))
        run("git", "tag", "v1.0.0")
        timed("mlship deploy release v1.0.0", results, lambda: run("mlship", "deploy", "release", "v1.0.0"))

        commit("a merge")

        def merge_to_staging() -> None:
            timed("  make image, base and dependency layers cached", results, build)
            timed("  mlship deploy push (new commit)", results, lambda: run("mlship", "deploy", "push"))
            timed(
                "  mlship deploy staging (replacing the running one)",
                results,
                lambda: run("mlship", "deploy", "staging"),
            )

        timed("merge → staging serving (build + push + staging)", results, merge_to_staging)
        run("git", "tag", "v2.0.0")
        timed("mlship deploy release v2.0.0", results, lambda: run("mlship", "deploy", "release", "v2.0.0"))
        timed(
            "mlship deploy rollback production",
            results,
            lambda: run("mlship", "deploy", "rollback", "production"),
        )
        timed(
            "mlship deploy rollback production (again: no-op)",
            results,
            lambda: run("mlship", "deploy", "rollback", "production"),
        )
        digest = registry.resolve(env["MLSHIP_REGISTRY"], "production")
        manifest = json.loads(
            subprocess.run(
                [
                    "skopeo",
                    "inspect",
                    "--raw",
                    "--tls-verify=false",
                    f"docker://{env['MLSHIP_REGISTRY']}@{digest}",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        compressed = sum(layer["size"] for layer in manifest["layers"])
        print(f"{'image size (local, uncompressed)':<55} {int(size) / 1e6:7.0f} MB")
        print(f"{'image size (registry, compressed layers)':<55} {compressed / 1e6:7.0f} MB")
    finally:
        subprocess.run(["mlship", "deploy", "down"], cwd=repo, env=env, check=False, capture_output=True)
        runner.registry_down(scratch / "registry")
        subprocess.run(["podman", "rmi", "--force", BASE], check=False, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
