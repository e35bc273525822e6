"""Data and model checks: Deepchecks suites with explicit conditions, and the model gates."""
