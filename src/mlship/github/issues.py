"""One open issue per environment, kept in step with ``mlship monitor``'s verdict.

The issue is found by its hidden marker (``<!-- mlship-monitor: ENV -->`` in the body) among the open issues
carrying the label; the exact title is the fallback for an issue whose body someone edited. Rules:

* an alert, or a run that could not judge (never a silent pass): no open issue -> open one with the report;
  an open issue -> comment the report, unless the newest report posted there is this same report (its
  digest, hidden in the text, is equal): a re-run of the same verdict changes nothing;
* healthy: an open issue -> comment that it is healthy again and close it; none -> nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

LABEL = "mlship-monitor"
#: GitHub refuses issue and comment bodies longer than this many characters.
MAX_BODY = 65_536
_DIGEST = re.compile(r"<!-- mlship-monitor-digest: ([0-9a-f]{64}) -->")

Action = Literal["opened", "commented", "closed", "unchanged", "none"]


class ReportError(RuntimeError):
    """``reports/monitor.json`` is missing or not what ``mlship monitor`` writes."""


class IssueAPI(Protocol):
    def open_issues(self, label: str | None = None) -> list[dict[str, Any]]: ...
    def create_issue(self, title: str, body: str, labels: list[str]) -> dict[str, Any]: ...
    def comments(self, number: int) -> list[dict[str, Any]]: ...
    def comment(self, number: int, body: str) -> dict[str, Any]: ...
    def close_issue(self, number: int) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Verdict:
    """What the issue needs from ``reports/monitor.json`` and ``reports/monitor.md``."""

    environment: str
    healthy: bool
    judged: bool
    alerts: tuple[str, ...]
    retrain: bool
    markdown: str

    @property
    def needs_attention(self) -> bool:
        return not (self.healthy and self.judged)


def load_verdict(json_path: Path, markdown_path: Path, environment: str | None = None) -> Verdict:
    """Read the monitor's report; the environment defaults to the one the report names."""
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{json_path} does not exist: run `make monitor` first") from None
    except ValueError as error:
        raise ReportError(f"{json_path} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ReportError(f"{json_path}: expected a JSON object")
    missing = [key for key in ("healthy", "judged", "alerts") if key not in document]
    if missing:
        raise ReportError(f"{json_path}: missing key(s) {', '.join(missing)}")
    name = environment or document.get("environment")
    if not name:
        raise ReportError(f"{json_path} names no environment: pass --env")
    alerts = tuple(
        f"{alert.get('kind', '?')}: {alert.get('detail', '')}" if isinstance(alert, dict) else str(alert)
        for alert in document["alerts"]
    )
    markdown = markdown_path.read_text(encoding="utf-8") if markdown_path.is_file() else ""
    if not markdown:
        markdown = "\n".join(["mlship monitor", "", *(f"- {a}" for a in alerts)]) + "\n"
    return Verdict(
        environment=str(name),
        healthy=document["healthy"] is True,
        judged=document["judged"] is True,
        alerts=alerts,
        retrain=document.get("retrain") is True,
        markdown=markdown,
    )


def title(environment: str) -> str:
    return f"mlship monitor: {environment}"


def marker(environment: str) -> str:
    return f"<!-- mlship-monitor: {environment} -->"


def digest(markdown: str) -> str:
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


def render(verdict: Verdict, run_url: str | None) -> str:
    """The issue/comment body: marker, digest, the report (cut to GitHub's limit), the run's link."""
    head = f"{marker(verdict.environment)}\n<!-- mlship-monitor-digest: {digest(verdict.markdown)} -->\n"
    tail = f"\n\n---\nWritten by `mlship github monitor-issue` from {run_url or 'a local run'}.\n"
    room = MAX_BODY - len(head) - len(tail) - 40
    report = verdict.markdown
    if len(report) > room:
        report = report[:room] + "\n\n… (cut: the full report is the run's artifact)"
    return head + report + tail


def _pick(candidates: list[dict[str, Any]], environment: str) -> dict[str, Any] | None:
    for test in (
        lambda issue: marker(environment) in (issue.get("body") or ""),
        lambda issue: issue.get("title") == title(environment),
    ):
        found = sorted((i for i in candidates if test(i)), key=lambda i: int(i["number"]))
        if found:
            return found[0]
    return None


def find(api: IssueAPI, environment: str) -> dict[str, Any] | None:
    """The open issue of this environment: by marker first, else by exact title; oldest first.

    Looked up among the labelled issues, then among all open ones (GitHub drops the label silently when the
    token may not set labels, and a person may remove it): one issue per environment either way.
    """
    return _pick(api.open_issues(LABEL), environment) or _pick(api.open_issues(), environment)


def _latest_digest(api: IssueAPI, issue: dict[str, Any]) -> str | None:
    texts = [issue.get("body") or ""] + [c.get("body") or "" for c in api.comments(int(issue["number"]))]
    for text in reversed(texts):
        match = _DIGEST.search(text)
        if match:
            return match.group(1)
    return None


@dataclass(frozen=True)
class Outcome:
    action: Action
    number: int | None
    url: str | None

    def render(self, environment: str) -> str:
        where = f" #{self.number} ({self.url})" if self.number else ""
        words = {
            "opened": "opened issue",
            "commented": "commented on issue",
            "closed": "closed issue",
            "unchanged": "already up to date: issue",
            "none": "healthy, no open issue",
        }
        return f"monitor-issue {environment}: {words[self.action]}{where}"


def sync(api: IssueAPI, verdict: Verdict, run_url: str | None = None) -> Outcome:
    """Bring the environment's issue in line with the verdict (idempotent)."""
    issue = find(api, verdict.environment)
    if not verdict.needs_attention:
        if issue is None:
            return Outcome("none", None, None)
        number = int(issue["number"])
        api.comment(number, f"{marker(verdict.environment)}\nHealthy again: {run_url or 'a local run'}.\n")
        api.close_issue(number)
        return Outcome("closed", number, issue.get("html_url"))
    body = render(verdict, run_url)
    if issue is None:
        created = api.create_issue(title(verdict.environment), body, [LABEL])
        return Outcome("opened", int(created["number"]), created.get("html_url"))
    number = int(issue["number"])
    if _latest_digest(api, issue) == digest(verdict.markdown):
        return Outcome("unchanged", number, issue.get("html_url"))
    api.comment(number, body)
    return Outcome("commented", number, issue.get("html_url"))
