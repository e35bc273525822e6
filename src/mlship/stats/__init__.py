"""Statistics for the PR report and the gates: weighted metrics and bootstrap intervals."""
