"""Shipping timings: base image, image builds, push, staging, release, rollback, merge → staging.

Run after `make repro` (the trained model is copied into a fresh clone) with the container tools installed
(`make machine`, or `make test` installs them):  .venv/bin/python bench/shipping.py [--quick] [--root PATH]
Everything happens in a temporary clone, a temporary registry and free loopback ports (written into the
clone's params.yaml, not committed: the clone's HEAD stays the checkout's); a throw-away base image tag makes
the first build a cold one (no layer of it is cached). The images built and pulled are removed afterwards.

  --quick      every deployment command once with the least work: the image `make image` already built
               for the checkout's HEAD (`localhost/<name>:sha-<sha12>`; built with the cached base image only
               when there is none), then push, staging and one release. The merge → staging and the rollbacks
               need a second commit's image, so they run in the full mode only (tests/deploy/test_e2e.py
               proves them in every `make test`); proves the script runs, not figures
  --root PATH  the checkout to clone (its committed HEAD and its trained model; default: this repository)
"""

from __future__ import annotations

import argparse
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

HERE = Path(__file__).resolve().parent.parent
BASE = "localhost/mlship-pybase:bench"  # thrown away after a full run
CACHED_BASE = "localhost/mlship-pybase:bookworm"  # what `make image` uses, kept (--quick)
HEADER = "| shipping step | time |"
TOOLS = ("podman", "buildah", "skopeo", "docker-registry", "debootstrap")


def timed(label: str, results: dict[str, float], action: Callable[[], object]) -> None:
    start = time.perf_counter()
    action()
    results[label] = time.perf_counter() - start
    print(f"{label:<55} {results[label]:7.1f} s", file=sys.stderr, flush=True)


def main() -> None:  # noqa: PLR0915 -- one linear script of timed steps
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="cached base image, one release: no figures")
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to clone (default: this one)")
    args = parser.parse_args()
    root = args.root.resolve()
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench/shipping.py: missing {', '.join(missing)} (install them: `make machine`)")
    if not (root / "models").is_dir():
        sys.exit(f"bench/shipping.py: no model in {root} yet (run `make repro` there first)")
    base = CACHED_BASE if args.quick else BASE
    params = load_params(root / "params.yaml")
    name = params.service.name
    signing_home = params.deploy.signing.home
    scratch = Path(tempfile.mkdtemp(prefix="mlship-bench-"))
    repo = scratch / "repo"
    subprocess.run(["git", "clone", "--quiet", str(root), str(repo)], check=True)
    text = (repo / "params.yaml").read_text(encoding="utf-8")
    for environment, config in params.deploy.environments.items():
        text = re.sub(
            rf"(\n    {environment}:\n      port: ){config.port}", rf"\g<1>{runner.free_port()}", text
        )
    (repo / "params.yaml").write_text(text, encoding="utf-8")  # not committed: HEAD stays the checkout's
    shutil.copytree(root / "models", repo / "models")
    port = runner.free_port()
    runner.registry_up(scratch / "registry", port)
    env = {
        **os.environ,
        "BENTOML_HOME": str(scratch / "bentoml"),
        "MLSHIP_REGISTRY": f"127.0.0.1:{port}/{name}",
        "MLSHIP_BASE_IMAGE": base,
        "MLSHIP_PARAMS": str(repo / "params.yaml"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        # the checkout's signing key signs the pushes (its private half is not in the clone)
        "MLSHIP_SIGNING_HOME": os.environ.get("MLSHIP_SIGNING_HOME") or str(root / signing_home),
    }
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]

    def run(*args: str) -> str:
        return subprocess.run(
            list(args), cwd=repo, env=env, check=True, capture_output=True, text=True
        ).stdout

    def commit(message: str) -> str:
        run("git", *identity, "commit", "--quiet", "--allow-empty", "-am", message)
        return run("git", "rev-parse", "HEAD").strip()

    built: list[str] = []

    def build() -> None:
        sha = run("git", "rev-parse", "HEAD").strip()
        built.append(f"localhost/{name}:sha-{sha[:12]}")
        run("mlship", "store-model")
        run("bentoml", "build", "--version", sha[:12])
        run("mlship", "deploy", "image", "--bento", f"{name}:{sha[:12]}", "--backend", "buildah")

    def existing_image() -> bool:
        sha = run("git", "rev-parse", "HEAD").strip()
        reference = f"localhost/{name}:sha-{sha[:12]}"
        return subprocess.run(["podman", "image", "exists", reference], check=False).returncode == 0

    results: dict[str, float] = {}
    try:
        base_env = env if args.quick else {**env, "BASE_IMAGE_REBUILD": "1"}
        timed(
            "base image (cached: built only if missing)"
            if args.quick
            else "base image (debootstrap + import)",
            results,
            lambda: subprocess.run(
                [str(repo / "deploy/local/base-image.sh"), base],
                env=base_env,
                check=True,
                capture_output=True,
            ),
        )
        if args.quick and existing_image():  # `make image` already built this commit's image: reuse it
            timed("make image (reused: this commit's image was built)", results, lambda: None)
        else:
            first_build = "make image, cached base" if args.quick else "make image, cold (no cached layer)"
            timed(first_build, results, build)
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

        if not args.quick:  # a second commit's image: the merge → staging, a second release, the rollbacks
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
            timed(
                "mlship deploy release v2.0.0", results, lambda: run("mlship", "deploy", "release", "v2.0.0")
            )
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
    finally:
        subprocess.run(["mlship", "deploy", "down"], cwd=repo, env=env, check=False, capture_output=True)
        runner.registry_down(scratch / "registry")
        pulled = subprocess.run(
            ["podman", "images", "--quiet", "--filter", f"reference=127.0.0.1:{port}/{name}"],
            check=False,
            capture_output=True,
            text=True,
        ).stdout.split()
        throwaway = [] if args.quick else [BASE]
        subprocess.run(
            ["podman", "rmi", "--force", *built, *pulled, *throwaway], check=False, capture_output=True
        )
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{HEADER}\n|---|---|")
    for label, seconds in results.items():
        print(f"| {label.strip()} | {seconds:.1f} s |")
    print(
        f"| image size: local, uncompressed / registry, compressed layers | {int(size) / 1e6:.0f} MB / "
        f"{compressed / 1e6:.0f} MB |"
    )


if __name__ == "__main__":
    main()
