"""``mlship report``: collect, render, draw; write the Markdown and the PNG charts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlship.config import Params
from mlship.data.schema import Schema
from mlship.report import png
from mlship.report.collect import collect
from mlship.report.render import Links, render, verdict_line


@dataclass(frozen=True)
class Written:
    markdown: Path
    images: tuple[Path, ...]
    verdict: str


def artifact_url(environ: Mapping[str, str]) -> str | None:
    """The GitHub Actions run page that lists the artifacts, when running there."""
    keys = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    server, repository, run_id = (environ.get(key) for key in keys)
    if not (server and repository and run_id):
        return None
    return f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}#artifacts"


def run(
    params: Params,
    schema: Schema,
    repo: Path,
    *,
    out: Path,
    charts_dir: Path,
    environ: Mapping[str, str],
    embed_images: bool = False,
) -> Written:
    inputs = collect(params, schema, repo)
    images = tuple(png.draw(inputs.plots_base, inputs.plots_pr, repo / charts_dir))
    markdown_path = repo / out
    embedded = [Path(p).resolve().relative_to(markdown_path.parent.resolve()).as_posix() for p in images]
    links = Links(artifact_url(environ), charts_dir.as_posix(), tuple(embedded) if embed_images else ())
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(render(inputs, links), encoding="utf-8")
    return Written(markdown_path, images, verdict_line(inputs))
