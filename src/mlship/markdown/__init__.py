"""What the PR report and the monitor report both write: Mermaid charts and Markdown tables (below both)."""
