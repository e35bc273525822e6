"""The pull-request report: what moved between the merge base on ``main`` and the workspace, and the verdicts.

``collect`` gathers the inputs (DVC's metric and param diffs, plot files at both revisions, the gates' JSON),
``deltas`` and ``charts`` turn them into rows and charts (pure functions), ``render`` writes the Markdown,
``png`` draws the artifact charts, and ``repro`` is the reproducibility gate.
"""
