"""The project's own exceptions.

Every error a user can cause is one of these; the CLI turns each into a single line on stderr
and the exit code carried by the class, so no user-caused failure ever shows a traceback.
"""

from __future__ import annotations

import re

# every control character (escape sequences, newlines, tabs, C1 controls, Unicode line breaks):
# what no terminal, CSV cell or Markdown table may receive from text aipcbench did not write
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class AipcbenchError(Exception):
    """Base class: a failure with a one-line message and the exit code it maps to."""

    exit_code = 1

    def one_line(self) -> str:
        """The message folded onto one line (messages may quote multi-line input)."""
        return " ".join(str(self).split())


class UserInputError(AipcbenchError):
    """A flag, value or path given by the user is wrong (exit 2)."""

    exit_code = 2


class DataError(AipcbenchError):
    """A data, weights or catalog file exists but is malformed (exit 2)."""

    exit_code = 2


class ResultsFileError(AipcbenchError):
    """A results file cannot be read: truncated, foreign, or of an unknown schema (exit 2)."""

    exit_code = 2


class ProbeUnavailable(AipcbenchError):
    """A hardware sensor is absent or refused access; callers fall back to the next method."""


class Interrupted(AipcbenchError):
    """The user stopped the run (SIGINT, SIGTERM, SIGHUP); what finished is kept (exit 130).
    ``ended_by`` names what stopped it, for the results file."""

    exit_code = 130

    def __init__(self, message: str = "interrupted", ended_by: str = "interrupted"):
        super().__init__(message)
        self.ended_by = ended_by


class StorageError(AipcbenchError):
    """A results or report file could not be written (a full disk, say); what was written
    before is kept (exit 1)."""


def exception_line(exc: BaseException) -> str:
    """Any exception as ``Type: message`` on one line, at most 300 characters, its control
    characters blanked (a library's message may carry terminal escapes): how a failed cell,
    probe or figure is recorded."""
    text = " ".join(CONTROL_CHARACTERS.sub(" ", str(exc)).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__
