"""Keep every tool in the stack offline and quiet: no usage analytics leave the machine."""

from __future__ import annotations

import os

OPT_OUT: dict[str, str] = {
    "DO_NOT_TRACK": "1",
    "BENTOML_DO_NOT_TRACK": "true",
    "DVC_NO_ANALYTICS": "1",
    "ITERATIVE_DO_NOT_TRACK": "1",
    "DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY": "1",
}


def disable() -> None:
    """Set the opt-out variables (without overriding an explicit setting)."""
    for name, value in OPT_OUT.items():
        os.environ.setdefault(name, value)
