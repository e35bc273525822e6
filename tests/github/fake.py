"""A fake of GitHub's REST API on a loopback port, for the few endpoints the production loop calls.

This is a fake, not a mock, and it exists only because GitHub's API cannot be reached from the test
machine. It is a real HTTP server (``http.server`` in a thread) speaking GitHub's protocol as documented
for API version 2022-11-28: bearer-token authentication (401 ``Bad credentials`` otherwise), the JSON
shapes of issues, comments, pull requests and workflow runs, the status codes (201 on create, 204 on a
dispatch, 404 ``Not Found``, 422 ``Validation Failed``), a pull request's title and body edited by
PATCH, the issues list that also contains pull requests, label and state filters, and pagination with
``Link: <...>; rel="next"`` headers. ``page_size`` caps ``per_page`` (GitHub allows 100) so that
pagination is exercised with a handful of items. When a bare git
repository is given, a pull request's head branch must exist there, as GitHub requires.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

DOCS = "https://docs.github.com/rest"
TIMESTAMP = "2026-12-01T03:00:00Z"


@dataclass
class State:
    repository: str
    token: str
    page_size: int = 100
    git: Path | None = None
    workflows: tuple[str, ...] = ("retrain.yml", "monitor.yml")
    issues: list[dict[str, Any]] = field(default_factory=list)  # pull requests included, as on GitHub
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: int = 1000

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    @property
    def owner(self) -> str:
        return self.repository.split("/")[0]

    def issue_list(self) -> list[dict[str, Any]]:
        return [i for i in self.issues if "pull_request" not in i]

    def pulls(self) -> list[dict[str, Any]]:
        return [i for i in self.issues if "pull_request" in i]


class FakeGitHub:
    def __init__(self, state: State, server: ThreadingHTTPServer) -> None:
        self.state = state
        self.url = f"http://127.0.0.1:{server.server_address[1]}"

    def environ(self, token: str | None = None) -> dict[str, str]:
        """What a GitHub Actions job would have, pointed at this server."""
        return {
            "GITHUB_TOKEN": token or self.state.token,
            "GITHUB_REPOSITORY": self.state.repository,
            "GITHUB_API_URL": self.url,
        }

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.state.requests if r[0] != "GET"]


def _issue(state: State, number: int, title: str, body: str, labels: list[str]) -> dict[str, Any]:
    return {
        "id": state.next_id(),
        "node_id": f"I_{number}",
        "number": number,
        "title": title,
        "body": body,
        "state": "open",
        "state_reason": None,
        "labels": [
            {"id": state.next_id(), "name": name, "color": "ededed", "default": False} for name in labels
        ],
        "user": {"login": "github-actions[bot]", "type": "Bot"},
        "comments": 0,
        "html_url": f"https://github.com/{state.repository}/issues/{number}",
        "url": f"https://api.github.com/repos/{state.repository}/issues/{number}",
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "closed_at": None,
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "GitHub.com"
    state: State

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet

    # --- plumbing ----------------------------------------------------------------------------------------
    def _send(self, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        payload: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
        if errors:
            payload["errors"] = errors
        self._send(status, payload)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            document = json.loads(raw or b"{}")
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise _APIError(400, "Problems parsing JSON")
        return document

    def _page(self, items: list[Any], query: dict[str, list[str]], path: str) -> None:
        per_page = min(int(query.get("per_page", ["30"])[0]), 100, self.state.page_size)
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            flat = {k: v[0] for k, v in query.items()} | {"page": str(page + 1), "per_page": str(per_page)}
            last = {**flat, "page": str(-(-len(items) // per_page))}
            headers["Link"] = (
                f'<{self._base()}{path}?{urlencode(flat)}>; rel="next", '
                f'<{self._base()}{path}?{urlencode(last)}>; rel="last"'
            )
        self._send(200, chunk, headers)

    def _base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        with self.state.lock:
            self.state.requests.append((method, parts.path))
            if self.headers.get("Authorization") != f"Bearer {self.state.token}":
                self._error(401, "Bad credentials")
                return
            prefix = f"/repos/{self.state.repository}"
            if not parts.path.startswith(prefix + "/"):
                self._error(404, "Not Found")
                return
            try:
                self._route(method, parts.path[len(prefix) :], query, parts.path)
            except _APIError as problem:
                self._error(problem.status, problem.message, problem.errors)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    # --- endpoints ---------------------------------------------------------------------------------------
    def _route(  # noqa: PLR0912 - one branch per GitHub endpoint, read top to bottom
        self, method: str, path: str, query: dict[str, list[str]], full: str
    ) -> None:
        state = self.state
        if path == "/issues" and method == "GET":
            wanted_state = query.get("state", ["open"])[0]
            labels = [x for x in query.get("labels", [""])[0].split(",") if x]
            items = [
                i
                for i in sorted(state.issues, key=lambda i: -int(i["number"]))  # newest first, as GitHub
                if wanted_state in ("all", i["state"]) and set(labels) <= {lb["name"] for lb in i["labels"]}
            ]
            self._page(items, query, full)
        elif path == "/issues" and method == "POST":
            body = self._body()
            if not body.get("title"):
                raise _APIError(
                    422,
                    "Validation Failed",
                    [{"resource": "Issue", "field": "title", "code": "missing_field"}],
                )
            if len(body.get("body") or "") > 65536:
                raise _APIError(
                    422,
                    "Validation Failed",
                    [
                        {
                            "resource": "Issue",
                            "field": "body",
                            "code": "custom",
                            "message": "body is too long (maximum is 65536 characters)",
                        }
                    ],
                )
            issue = _issue(
                state,
                len(state.issues) + 1,
                body["title"],
                body.get("body") or "",
                list(body.get("labels") or []),
            )
            state.issues.append(issue)
            self._send(201, issue)
        elif (m := re.fullmatch(r"/issues/(\d+)/comments", path)) and method in ("GET", "POST"):
            issue = self._find(int(m.group(1)))
            if method == "GET":
                self._page(state.comments.get(issue["number"], []), query, full)
                return
            text = self._body().get("body")
            if not text:
                raise _APIError(
                    422,
                    "Validation Failed",
                    [{"resource": "IssueComment", "field": "body", "code": "missing_field"}],
                )
            comment = {
                "id": state.next_id(),
                "body": text,
                "user": {"login": "github-actions[bot]", "type": "Bot"},
                "html_url": f"{issue['html_url']}#issuecomment-{state._ids}",
                "created_at": TIMESTAMP,
                "updated_at": TIMESTAMP,
            }
            state.comments.setdefault(issue["number"], []).append(comment)
            issue["comments"] += 1
            self._send(201, comment)
        elif (m := re.fullmatch(r"/issues/(\d+)", path)) and method == "PATCH":
            issue = self._find(int(m.group(1)))
            body = self._body()
            if body.get("state") not in (None, "open", "closed"):
                raise _APIError(
                    422, "Validation Failed", [{"resource": "Issue", "field": "state", "code": "invalid"}]
                )
            if body.get("state"):
                issue["state"] = body["state"]
                issue["state_reason"] = body.get("state_reason") if body["state"] == "closed" else "reopened"
                issue["closed_at"] = TIMESTAMP if body["state"] == "closed" else None
            self._send(200, issue)
        elif path == "/pulls" and method == "GET":
            head = query.get("head", [None])[0]
            base = query.get("base", [None])[0]
            wanted_state = query.get("state", ["open"])[0]
            items = [
                p["pull"]
                for p in state.pulls()
                if wanted_state in ("all", p["state"])
                and (head is None or head == p["pull"]["head"]["label"])
                and (base is None or base == p["pull"]["base"]["ref"])
            ]
            self._page(items, query, full)
        elif path == "/pulls" and method == "POST":
            self._create_pull(self._body())
        elif (m := re.fullmatch(r"/pulls/(\d+)", path)) and method == "PATCH":
            issue = self._find(int(m.group(1)))
            if "pull" not in issue:
                raise _APIError(404, "Not Found")
            body = self._body()
            for key in ("title", "body"):
                if key in body:
                    issue[key] = issue["pull"][key] = str(body[key])
            self._send(200, issue["pull"])
        elif (m := re.fullmatch(r"/actions/workflows/([^/]+)/runs", path)) and method == "GET":
            workflow = self._workflow(m.group(1))
            status = query.get("status", [None])[0]
            runs = [r for r in state.runs if r["path"].endswith(workflow) and status in (None, r["status"])]
            self._send(200, {"total_count": len(runs), "workflow_runs": runs})
        elif (m := re.fullmatch(r"/actions/workflows/([^/]+)/dispatches", path)) and method == "POST":
            workflow = self._workflow(m.group(1))
            body = self._body()
            if not body.get("ref"):
                raise _APIError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.')
            state.runs.append(
                {
                    "id": state.next_id(),
                    "path": f".github/workflows/{workflow}",
                    "event": "workflow_dispatch",
                    "status": "queued",
                    "head_branch": body["ref"],
                    "inputs": body.get("inputs") or {},
                }
            )
            self._send(204)
        else:
            raise _APIError(404, "Not Found")

    def _find(self, number: int) -> dict[str, Any]:
        for issue in self.state.issues:
            if issue["number"] == number:
                return issue
        raise _APIError(404, "Not Found")

    def _workflow(self, name: str) -> str:
        if name not in self.state.workflows:
            raise _APIError(404, "Not Found")
        return name

    def _create_pull(self, body: dict[str, Any]) -> None:
        state = self.state
        missing = [k for k in ("head", "base") if not body.get(k)]
        if missing or not (body.get("title") or body.get("issue")):
            raise _APIError(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "field": (missing or ["title"])[0], "code": "missing_field"}],
            )
        head, base = str(body["head"]), str(body["base"])
        branch = head.split(":", 1)[-1]
        if state.git is not None:
            for ref in (branch, base):
                known = subprocess.run(
                    ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{ref}"],
                    cwd=state.git,
                    check=False,
                    capture_output=True,
                )
                if known.returncode:
                    field = "head" if ref == branch else "base"
                    raise _APIError(
                        422,
                        "Validation Failed",
                        [{"resource": "PullRequest", "field": field, "code": "invalid"}],
                    )
        label = f"{state.owner}:{branch}"
        if any(p["pull"]["head"]["label"] == label and p["state"] == "open" for p in state.pulls()):
            raise _APIError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {label}.",
                    }
                ],
            )
        if branch == base:
            raise _APIError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"No commits between {base} and {branch}",
                    }
                ],
            )
        number = len(state.issues) + 1
        issue = _issue(state, number, str(body.get("title")), str(body.get("body") or ""), [])
        issue["pull_request"] = {"url": f"https://api.github.com/repos/{state.repository}/pulls/{number}"}
        pull = {
            "id": state.next_id(),
            "number": number,
            "state": "open",
            "title": issue["title"],
            "body": issue["body"],
            "html_url": f"https://github.com/{state.repository}/pull/{number}",
            "head": {"label": label, "ref": branch},
            "base": {"label": f"{state.owner}:{base}", "ref": base},
            "draft": bool(body.get("draft", False)),
            "merged": False,
        }
        issue["pull"] = pull
        state.issues.append(issue)
        self._send(201, pull)


class _APIError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


@contextmanager
def serve(
    repository: str = "acme/model",
    *,
    page_size: int = 100,
    git: Path | None = None,
    token: str = "ghs_fake-token",  # noqa: S107 - the fake server's own token, not a secret
) -> Iterator[FakeGitHub]:
    """The fake on a free loopback port (port 0: the OS picks it) for the duration of the block."""
    state = State(repository=repository, token=token, page_size=page_size, git=git)
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FakeGitHub(state, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
