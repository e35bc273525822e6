"""The one error ``mlship init`` raises for a problem the user can fix; its message names the problem."""

from __future__ import annotations


class AdoptError(RuntimeError):
    """The data file or the arguments cannot be adopted; nothing has been written."""
