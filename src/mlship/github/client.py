"""A small client for GitHub's REST API (v3, version 2022-11-28): only the calls the production loop makes.

Configuration comes from the environment a GitHub Actions job has: ``GITHUB_TOKEN``, ``GITHUB_REPOSITORY``
(``owner/name``) and ``GITHUB_API_URL`` (GitHub Enterprise; default ``https://api.github.com``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class GitHubConfigError(RuntimeError):
    """The environment does not say which repository to talk to, or with which token."""


class GitHubError(RuntimeError):
    """GitHub answered a request with an error status."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"GitHub {method} {path}: HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class Settings:
    token: str
    repository: str
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        token = environ.get("GITHUB_TOKEN", "")
        repository = environ.get("GITHUB_REPOSITORY", "")
        api_url = environ.get("GITHUB_API_URL", "") or DEFAULT_API_URL
        if not token:
            raise GitHubConfigError("GITHUB_TOKEN is not set (a token allowed to write issues/pull requests)")
        if not repository:
            raise GitHubConfigError("GITHUB_REPOSITORY is not set (owner/name of the repository)")
        if not _REPOSITORY.match(repository):
            raise GitHubConfigError(f"GITHUB_REPOSITORY must be owner/name, got {repository!r}")
        if not api_url.startswith(("https://", "http://")):
            raise GitHubConfigError(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
        return cls(token=token, repository=repository, api_url=api_url.rstrip("/"))


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (GitHub's pagination), if any."""
    match = _NEXT.search(header or "")
    return match.group(1) if match else None


class GitHub:
    """Calls on one repository. Use as a context manager (closes the connection pool)."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.owner = settings.repository.split("/", 1)[0]
        self._http = httpx.Client(
            base_url=settings.api_url,
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {settings.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "mlship",
            },
        )

    def __enter__(self) -> GitHub:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._http.close()

    def _repo(self, path: str) -> str:
        return f"/repos/{self.settings.repository}{path}"

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise GitHubError(method, path, 0, f"no answer from {self.settings.api_url}: {error}") from None
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", response.text))
            except ValueError:
                message = response.text[:200]
            raise GitHubError(method, path, response.status_code, message)
        return response

    def _pages(self, path: str, params: Mapping[str, str | int]) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, following the ``Link: rel="next"`` headers."""
        response = self._request("GET", path, params={**params, "per_page": 100})
        while True:
            yield from response.json()
            url = next_link(response.headers.get("link"))
            if url is None:
                return
            response = self._request("GET", url)

    # --- issues ------------------------------------------------------------------------------------------
    def open_issues(self, label: str | None = None) -> list[dict[str, Any]]:
        """Open issues (with ``label`` if given); pull requests, which this endpoint also lists, left out."""
        params: dict[str, str | int] = {"state": "open"}
        if label:
            params["labels"] = label
        items = self._pages(self._repo("/issues"), params)
        return [item for item in items if "pull_request" not in item]

    def create_issue(self, title: str, body: str, labels: list[str]) -> dict[str, Any]:
        payload = {"title": title, "body": body, "labels": labels}
        result: dict[str, Any] = self._request("POST", self._repo("/issues"), json=payload).json()
        return result

    def comments(self, number: int) -> list[dict[str, Any]]:
        return list(self._pages(self._repo(f"/issues/{number}/comments"), {}))

    def comment(self, number: int, body: str) -> dict[str, Any]:
        path = self._repo(f"/issues/{number}/comments")
        result: dict[str, Any] = self._request("POST", path, json={"body": body}).json()
        return result

    def close_issue(self, number: int) -> dict[str, Any]:
        payload = {"state": "closed", "state_reason": "completed"}
        result: dict[str, Any] = self._request("PATCH", self._repo(f"/issues/{number}"), json=payload).json()
        return result

    # --- pull requests -----------------------------------------------------------------------------------
    def open_pulls(self, *, head: str | None = None, base: str | None = None) -> list[dict[str, Any]]:
        """Open pull requests, optionally from ``head`` (a branch of this repository) into ``base``."""
        params: dict[str, str | int] = {"state": "open"}
        if head:
            params["head"] = f"{self.owner}:{head}"
        if base:
            params["base"] = base
        return list(self._pages(self._repo("/pulls"), params))

    def create_pull(self, *, head: str, base: str, title: str, body: str) -> dict[str, Any]:
        payload = {"head": head, "base": base, "title": title, "body": body}
        result: dict[str, Any] = self._request("POST", self._repo("/pulls"), json=payload).json()
        return result

    def update_pull(self, number: int, *, body: str) -> dict[str, Any]:
        path = self._repo(f"/pulls/{number}")
        result: dict[str, Any] = self._request("PATCH", path, json={"body": body}).json()
        return result

    # --- actions -----------------------------------------------------------------------------------------
    def workflow_runs(self, workflow: str, status: str) -> list[dict[str, Any]]:
        path = self._repo(f"/actions/workflows/{workflow}/runs")
        response = self._request("GET", path, params={"status": status, "per_page": 100})
        runs: list[dict[str, Any]] = response.json()["workflow_runs"]
        return runs

    def dispatch(self, workflow: str, ref: str, inputs: Mapping[str, str]) -> None:
        path = self._repo(f"/actions/workflows/{workflow}/dispatches")
        self._request("POST", path, json={"ref": ref, "inputs": dict(inputs)})
