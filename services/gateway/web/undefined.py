"""Missing values in our templates are errors; GOV.UK Frontend's own macros may chain freely.

govuk-frontend-jinja's templates read optional parameters as `params.a.b` and need
ChainableUndefined. Our templates must not: a missing attribute silently rendered (or tested with
`is not none`, which an Undefined passes) once turned every place-less search into a 500. So an
Undefined made while one of our templates runs is strict — any use of it other than `is defined`
or `| default(...)` raises — and one made inside GOV.UK Frontend's macros stays chainable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from jinja2 import ChainableUndefined

OUR_TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates") + os.sep


def _in_our_template() -> bool:
    """Whether the nearest compiled-template frame on the stack is one of our templates."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            return (template.filename or "").startswith(OUR_TEMPLATES)
        frame = frame.f_back
    return False


class OurTemplatesStrictUndefined(ChainableUndefined):
    """Strict inside our templates, chainable inside GOV.UK Frontend's."""

    __slots__ = ("_strict",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Jinja makes a macro's missing `caller` where the macro is called, but it is the macro's own
        # optional parameter, so it follows the macro's rules, not the calling template's.
        self._strict = self._undefined_name != "caller" and _in_our_template()

    def _fail(self) -> NoReturn:
        self._fail_with_undefined_error()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or not self._strict:
            return super().__getattr__(name)
        self._fail()

    def __getitem__(self, key: Any) -> Any:
        if not self._strict:
            return self
        self._fail()

    def __str__(self) -> str:
        return self._fail() if self._strict else super().__str__()

    def __html__(self) -> str:
        return self._fail() if self._strict else super().__html__()

    def __iter__(self) -> Any:
        return self._fail() if self._strict else super().__iter__()

    def __len__(self) -> int:
        return self._fail() if self._strict else super().__len__()

    def __bool__(self) -> bool:
        return self._fail() if self._strict else super().__bool__()

    def __eq__(self, other: object) -> bool:
        return self._fail() if self._strict else super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return self._fail() if self._strict else super().__ne__(other)

    def __hash__(self) -> int:
        return self._fail() if self._strict else super().__hash__()

    def __contains__(self, item: object) -> bool:
        return self._fail() if self._strict else item in ()


def none_test(value: object) -> bool:
    """Jinja's `none` test, which a strict Undefined must not pass silently (`x is not none`)."""
    if isinstance(value, OurTemplatesStrictUndefined) and value._strict:
        value._fail()
    return value is None
