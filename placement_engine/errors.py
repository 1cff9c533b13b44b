"""Exceptions that the command line maps to exit codes (see docs/cli.md)."""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import _, ngettext


class PlacementError(Exception):
    """Base class for every error the engine raises on purpose."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where, what was expected, what was received."""

    file: str
    location: str
    expected: str
    got: str

    def __str__(self) -> str:
        where = f"{self.file} {self.location}".strip() if self.location else self.file
        return _("{where}: expected {expected}; got {got}").format(where=where, expected=self.expected, got=self.got)


class InputError(PlacementError):
    """The scenario, policy or tables are invalid; every problem found is listed, each once."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = list(dict.fromkeys(problems))
        super().__init__(self.problems)

    def __str__(self) -> str:
        # worded when shown, so that it speaks the language in force then
        count = len(self.problems)
        header = ngettext("{count} problem in the input:", "{count} problems in the input:", count).format(count=count)
        return "\n".join([header, *(f"  - {p}" for p in self.problems)])

    def __reduce__(self):
        # rebuilt from the problems, so it crosses process boundaries whole
        return (type(self), (self.problems,))


class InfeasibleError(PlacementError):
    """No allocation satisfies the hard rules; ``diagnosis`` says why."""

    exit_code = 3

    def __init__(self, message: str, diagnosis: dict | None = None):
        self.diagnosis = diagnosis or {"message": message}
        super().__init__(message)

    def __reduce__(self):
        return (type(self), (str(self), self.diagnosis))


class NoSolutionError(PlacementError):
    """The time limit ran out before any feasible allocation was found."""

    exit_code = 4


class SolverError(PlacementError):
    """A solver rejected the model the engine built: a fault of the engine, never of the inputs."""

    exit_code = 1
