"""Errors a user can act on. The CLI prints them without a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class GanzooError(Exception):
    """An error with a message meant for the user; the CLI exits 1 on it."""


class DatasetError(GanzooError):
    """A dataset cannot be loaded; the message says which files are needed and where."""


class DivergenceError(GanzooError):
    """A loss or a parameter became NaN or infinite: training stops before any bad state is saved."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a recipe: where (file and dotted key) and why."""

    source: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        message = " ".join(self.message.split())  # one line, whatever the underlying error printed
        key = self.key if self.key.isprintable() else repr(self.key)
        return f"{where}{key}: {message}" if key else f"{where}{message}"


class RecipeError(GanzooError):
    """Every problem found in a recipe, reported together; the CLI exits 2 on it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def unknown_name_message(what: str, name: object, known: list[str]) -> str:
    """``unknown loss 'bec'; did you mean 'bce'? known: bce, hinge`` (one line)."""
    import difflib

    message = f"unknown {what} {name!r}"
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean {close[0]!r}?"
    message += f"{'' if close else ';'} known: {', '.join(sorted(known)) or '(none installed)'}"
    return message
