"""The one family of errors a user can fix: unknown names, bad or corrupt files, incompatible
checkpoints, bad options.

Every such error derives from :class:`HivlaError` (and keeps its builtin base, e.g. ``ValueError``,
so ``except ValueError`` still catches it). ``hivla`` prints one of them as a single message with a
non-zero exit code; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class HivlaError(Exception):
    """An error the user can fix; its message says what was wrong, what was expected and what to do."""
