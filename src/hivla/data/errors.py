"""The one exception type the dataset layer raises for bad or unreadable data on disk."""

from __future__ import annotations

from pathlib import Path

from hivla.errors import HivlaError


class DatasetError(HivlaError, RuntimeError):
    """A dataset file is missing, corrupt, inconsistent or of an unreadable version.

    The message names the file and says what was wrong, what was expected and what to do.
    """

    def __init__(self, path: str | Path, problem: str, hint: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        msg = f"{self.path}: {problem}"
        super().__init__(f"{msg}. {hint}" if hint else msg)
