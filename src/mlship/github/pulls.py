"""The bot's pull requests (retraining, tuning): commit the results on a branch, push it, open the PR.

Never ``main``: the branch must differ from the base and from the protected names, and the push names the
branch's full ref. Re-runnable: an unchanged tree is not pushed again, an open PR from the branch is reused
(and, when asked, its body replaced by the new run's, e.g. the tuning record).
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

PROTECTED = frozenset({"main", "master"})


def bot(role: str) -> list[str]:
    """The commit identity when the checkout has none (a CI runner): ``mlship <role>``."""
    return ["-c", f"user.name=mlship {role}", "-c", f"user.email={role}@mlship.invalid"]


class BranchError(RuntimeError):
    """The branch named for the pull request is not one the retraining may push to."""


class PullAPI(Protocol):
    def open_pulls(self, *, head: str | None = None, base: str | None = None) -> list[dict[str, Any]]: ...
    def create_pull(self, *, head: str, base: str, title: str, body: str) -> dict[str, Any]: ...
    def update_pull(self, number: int, *, body: str) -> dict[str, Any]: ...


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if check and result.returncode:
        raise RuntimeError(f"git {args[0]}: {(result.stderr or result.stdout).strip()}")
    return result


def check_branch(repo: Path, branch: str, base: str) -> None:
    if branch in PROTECTED or branch == base:
        raise BranchError(
            f"refusing to push the bot's results to {branch!r}: name a branch other than {base!r}"
        )
    if _git(repo, "check-ref-format", "--branch", branch, check=False).returncode:
        raise BranchError(f"{branch!r} is not a valid branch name")


@dataclass(frozen=True)
class Proposal:
    action: Literal["opened", "updated", "unchanged", "nothing"]
    number: int | None = None
    url: str | None = None

    def render(self, branch: str, command: str = "retrain-pr") -> str:
        if self.action == "nothing":
            return f"{command}: nothing changed against the checkout; no pull request from {branch}"
        words = {"opened": "opened", "updated": "pushed to the open", "unchanged": "already up to date:"}
        return f"{command}: {words[self.action]} pull request #{self.number} from {branch} ({self.url})"


def changed(repo: Path, path: Path) -> bool:
    """Whether ``path`` differs from HEAD in the checkout."""
    return _git(repo, "diff", "--quiet", "HEAD", "--", str(path), check=False).returncode != 0


def commit(repo: Path, branch: str, message: str, role: str = "retrain") -> bool:
    """On ``branch`` (created from HEAD; the checked-out branch is left as it was), commit every change to
    tracked files (dvc.lock, metrics, plots, params, .dvc files); False if there is none."""
    _git(repo, "checkout", "--quiet", "-B", branch)
    _git(repo, "add", "--update")
    if _git(repo, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return False
    identity = [] if _git(repo, "config", "user.email", check=False).stdout.strip() else bot(role)
    _git(repo, *identity, "commit", "--quiet", "-m", message)
    return True


def push(repo: Path, branch: str, *, remote: str, token: str | None, server_url: str) -> bool:
    """Push HEAD to ``refs/heads/<branch>`` unless the remote branch already holds the same tree.

    The branch belongs to the retraining: a newer result replaces it, but only if it still is what was just
    fetched (``--force-with-lease``), so a push racing this one is never overwritten unseen.
    """
    lease = f"--force-with-lease=refs/heads/{branch}:"
    fetched = _git(repo, "fetch", "--quiet", remote, f"refs/heads/{branch}", check=False)
    if fetched.returncode == 0:
        ours = _git(repo, "rev-parse", "HEAD^{tree}").stdout
        if ours == _git(repo, "rev-parse", "FETCH_HEAD^{tree}").stdout:
            return False
        lease += _git(repo, "rev-parse", "FETCH_HEAD").stdout.strip()
    auth: list[str] = []
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        auth = ["-c", f"http.{server_url.rstrip('/')}/.extraheader=AUTHORIZATION: basic {basic}"]
    _git(repo, *auth, "push", "--quiet", lease, remote, f"HEAD:refs/heads/{branch}")
    return True


def propose(
    repo: Path,
    api: PullAPI,
    *,
    branch: str,
    base: str,
    title: str,
    body: str,
    remote: str = "origin",
    token: str | None = None,
    server_url: str = "https://github.com",
    role: str = "retrain",
    update_body: bool = False,
) -> Proposal:
    """Commit, push and open (or reuse) the pull request from ``branch``. ``update_body``: a push to an open
    pull request also replaces its body with ``body`` (the body describes the branch's latest results)."""
    check_branch(repo, branch, base)
    changed = commit(repo, branch, title, role)
    open_pulls = api.open_pulls(head=branch, base=base)
    if not changed and not open_pulls:
        return Proposal("nothing")
    pushed = push(repo, branch, remote=remote, token=token, server_url=server_url) if changed else False
    if open_pulls:
        pull = open_pulls[0]
        if pushed and update_body:
            api.update_pull(int(pull["number"]), body=body)
        return Proposal("updated" if pushed else "unchanged", int(pull["number"]), pull.get("html_url"))
    created = api.create_pull(head=branch, base=base, title=title, body=body)
    return Proposal("opened", int(created["number"]), created.get("html_url"))
