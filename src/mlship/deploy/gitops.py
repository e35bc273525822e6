"""The audit trail in git: desired-state commits, kustomize overlays, and GTO-convention tags.

Tags follow GTO (Iterative's GitOps model registry): ``<name>@vX.Y.Z`` registers a version at the commit it
was built from, ``<name>#<stage>#<N>`` records the N-th assignment of a stage, both as annotated tags with
GTO's messages: ``gto show`` / ``gto history`` (gto 1.10.1) read this history, e.g. production back at v1.0.0
after a rollback. The ``gto`` package itself is not a dependency: it would bring seven more packages to the
CLI for three ``git tag -a`` calls, and its stage counter must match the registry's ``production-<N>``, which
the deploy computes from the environment's history under its own lock.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

STATE_PATHS = ("deploy/environments/", "deploy/k8s/overlays/")
K8S_IMAGE = "model-service"  # the image name deploy/k8s/base uses; overlays replace it by repository@digest


class GitError(RuntimeError):
    """A git operation failed (not a repository, unknown revision...)."""


def git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def commit_of(repo: Path, rev: str) -> str:
    out = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if not out:
        raise GitError(f"no commit {rev!r} in {repo} (create it first: git tag {rev} <commit>)")
    return out


def build_commit(repo: Path, rev: str) -> str:
    """The commit an image was built from: ``rev``, or its first-parent ancestor if ``rev`` only records
    deployment state (the deploy's own commits never get an image of their own)."""
    sha = commit_of(repo, rev)
    while True:
        changed = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", sha).splitlines()
        parents = git(repo, "rev-list", "--parents", "-n", "1", sha).split()[1:]
        if not changed or not parents or not all(path.startswith(STATE_PATHS) for path in changed):
            return sha
        sha = parents[0]


def tag_exists(repo: Path, name: str) -> bool:
    return bool(git(repo, "tag", "--list", name))


def gto_version_tag(repo: Path, artifact: str, version: str, commit: str) -> bool:
    name = f"{artifact}@{version}"
    if tag_exists(repo, name):
        existing = commit_of(repo, name)
        if existing != commit:
            raise GitError(f"{name} already marks commit {existing[:12]}, not {commit[:12]}")
        return False
    git(repo, "tag", "-a", name, commit, "-m", f"Registering artifact {artifact} version {version}")
    return True


def gto_stage_tags(repo: Path, artifact: str, stage: str) -> list[str]:
    return git(repo, "tag", "--list", f"{artifact}#{stage}#*").splitlines()


def gto_assign(repo: Path, artifact: str, stage: str, *, number: int, version: str, commit: str) -> bool:
    name = f"{artifact}#{stage}#{number}"
    if tag_exists(repo, name):
        return False
    git(
        repo,
        "tag",
        "-a",
        name,
        commit,
        "-m",
        f"Assigning stage {stage} to artifact {artifact} version {version}",
    )
    return True


def write_overlay(path: Path, repository: str, digest: str, environment: str) -> None:
    """Pin the overlay's image by digest (only the ``images:`` entry changes)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    if not isinstance(document, dict):
        document = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "namespace": f"mlship-{environment}",
            "resources": ["../../base"],
        }
    document["images"] = [{"name": K8S_IMAGE, "newName": repository, "digest": digest}]
    text = (
        f"# {environment}: the image pinned by digest (written by `mlship deploy`; Argo CD/Flux apply it).\n"
        + yaml.safe_dump(document, sort_keys=False)
    )
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit_state(repo: Path, paths: list[Path], message: str) -> bool:
    """Commit the given state files if they changed; False when there was nothing to commit."""
    relative = [str(path) for path in paths]
    git(repo, "add", "--", *relative)
    if not git(repo, "diff", "--cached", "--name-only", "--", *relative):
        return False
    # The committer's own identity when git has one (a developer), else a named bot (a fresh CI runner).
    identity = (
        []
        if git(repo, "config", "user.email", check=False)
        else ["-c", "user.name=mlship deploy", "-c", "user.email=deploy@mlship.invalid"]
    )
    git(
        repo,
        *identity,
        "commit",
        "--quiet",
        "--only",
        "-m",
        message,
        "--",
        *relative,
    )
    return True
