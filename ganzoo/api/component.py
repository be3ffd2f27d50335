"""``Component`` and ``Options``: what every component of every kind is made of.

A component is a class with a ``name``, a nested pydantic ``Options`` model and a docstring.
It is usable directly from Python with explicit options (``MLP(latent_dim=64)``); a recipe
is only one way of supplying those options. Options models forbid unknown keys, so a typo
fails with the key and the reason instead of being silently ignored.
"""

from __future__ import annotations

import types
import typing
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class Options(BaseModel):
    """Base for every component's options: unknown keys are errors, and so is ``true`` or
    ``false`` given for a number, or a float for a whole number (pydantic would read
    ``epochs: true`` as 1 and ``batch_size: 1.0e8`` as 100000000)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, (bool, float)) and info.field_name:
            takes = _numbers_taken(cls.model_fields[info.field_name].annotation)
            if isinstance(value, bool) and takes:
                raise ValueError("expected a number, not true or false")
            if isinstance(value, float) and takes == {int}:
                raise ValueError("expected a whole number written without a decimal point or exponent")
        return value


def _numbers_taken(annotation: Any) -> set[type]:
    """Which of int and float a field of this type takes, when it takes no bool: ``{int}``
    for ``Optional[PositiveInt]``; empty for ``bool``, ``Literal[False, "x"]`` or ``Any``."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _numbers_taken(args[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        if any(a is bool for a in args):
            return set()
        return set().union(*(_numbers_taken(a) for a in args))
    return {annotation} if annotation in (int, float) else set()


class Component:
    """A named, documented, option-validated building block."""

    name: ClassVar[str] = ""
    Options: ClassVar[type[BaseModel]] = Options

    def __init__(self, **options: Any) -> None:
        self.options = type(self).Options(**options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"
