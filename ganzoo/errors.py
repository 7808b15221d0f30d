"""Error types. A ``UserError`` is a mistake the user can fix: the CLI prints its message
and exits with status 2, never a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import attrs


class UserError(Exception):
    """A problem with the user's input (recipe, option, data, plugin choice): exit status 2."""

    exit_code = 2


class TrainingError(Exception):
    """A failure while training (non-finite loss, ...): exit status 1."""

    exit_code = 1


@attrs.frozen
class Problem:
    """One thing wrong with a recipe, at a dotted path such as ``train.steps``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RecipeError(UserError):
    """All problems found in one recipe, reported together (the first ``MAX_LISTED`` of
    them: a generated recipe with a million unknown keys must not print megabytes)."""

    MAX_LISTED = 50

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        lines = [f"{source}: {count} problem{'s' if count != 1 else ''}"]
        lines += [f"  - {p}" for p in self.problems[: self.MAX_LISTED]]
        if count > self.MAX_LISTED:
            lines.append(f"  ... and {count - self.MAX_LISTED} more")
        super().__init__("\n".join(lines))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else an empty string."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def brief(exc: BaseException) -> str:
    """``Type: first line of the message``, for wrapping library errors in a ``UserError``."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def accepted(choices: Iterable[str]) -> str:
    names = sorted(choices)
    return ", ".join(names) if names else "(none)"
