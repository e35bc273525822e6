"""The REST client against the fake GitHub server (a real HTTP server imitating GitHub's protocol, since
GitHub cannot be reached from here): configuration, authentication errors, pagination."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.github.fake import FakeGitHub

from mlship.cli import main
from mlship.github.client import GitHub, GitHubConfigError, GitHubError, Settings, next_link


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GITHUB_REPOSITORY": "acme/model"}, "GITHUB_TOKEN is not set"),
        ({"GITHUB_TOKEN": "t"}, "GITHUB_REPOSITORY is not set"),
        ({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "model"}, "must be owner/name"),
        ({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "a/b", "GITHUB_API_URL": "ftp://x"}, "http(s) URL"),
    ],
)
def test_missing_configuration_is_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(GitHubConfigError, match="^.*" + message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_environment(environ)


def test_the_api_url_defaults_to_github_com() -> None:
    settings = Settings.from_environment(
        {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "a/b", "GITHUB_API_URL": ""}
    )
    assert settings.api_url == "https://api.github.com"


@pytest.mark.parametrize("action", ["monitor-issue", "retrain-dispatch", "retrain-pr"])
def test_each_command_without_a_token_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/model")
    assert main(["github", action]) == 2
    captured = capsys.readouterr()
    reason = "GITHUB_TOKEN is not set (a token allowed to write issues/pull requests)"
    assert captured.err == f"mlship github {action}: error: {reason}\n"


def test_a_bad_token_gets_github_s_own_message(github: FakeGitHub) -> None:
    wrong = github.environ() | {"GITHUB_TOKEN": "not-the-token"}
    with (
        GitHub(Settings.from_environment(wrong)) as api,
        pytest.raises(GitHubError) as raised,
    ):
        api.open_issues("x")
    assert raised.value.status == 401
    assert "HTTP 401: Bad credentials" in str(raised.value)


def test_an_unreachable_server_is_an_error_not_a_traceback() -> None:
    settings = Settings.from_environment(
        {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "a/b", "GITHUB_API_URL": "http://127.0.0.1:9"}
    )
    with GitHub(settings, timeout=2) as api, pytest.raises(GitHubError, match="no answer from"):
        api.open_issues("x")


def test_every_page_is_read(github: FakeGitHub) -> None:
    # given 7 issues and 2 per page / when listed / then all 7 arrive, newest first, in 4 requests
    with GitHub(Settings.from_environment(github.environ())) as api:
        for n in range(7):
            api.create_issue(f"issue {n}", "", ["l"])
        before = len(github.state.requests)
        listed = api.open_issues("l")
    assert [i["number"] for i in listed] == [7, 6, 5, 4, 3, 2, 1]
    assert len(github.state.requests) - before == 4


@given(st.integers(1, 10_000), st.booleans())
def test_next_link_is_read_from_any_link_header(page: int, with_last: bool) -> None:
    url = f"https://api.github.com/repositories/1/issues?page={page}&per_page=100"
    header = f'<{url}>; rel="next"' + (', <https://x/last>; rel="last"' if with_last else "")
    assert next_link(header) == url
    assert next_link('<https://x/prev>; rel="prev"') is None
    assert next_link(None) is None
