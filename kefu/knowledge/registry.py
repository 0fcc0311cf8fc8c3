"""Where higher apps plug into knowledge without knowledge importing them.

* ``register_problem_source(fn)``: the tickets app registers a provider of
  recent work orders for common-problem mining, ``fn(since, until)`` returning
  an iterable of ``ProblemSample``. Knowledge never reads work orders itself.
* ``register_category_source(fn)``: optionally, ``fn()`` returns the live
  ``[(code, label), ...]`` of the work-order taxonomy for the article form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import NamedTuple


class ProblemSample(NamedTuple):
    ref: str  # a stable reference to the source record, e.g. "GD-20261127-0042"
    category_code: str
    text: str
    province_id: int | None


ProblemSource = Callable[[datetime, datetime], Iterable[ProblemSample]]
CategorySource = Callable[[], Iterable[tuple[str, str]]]

_PROBLEM_SOURCES: list[ProblemSource] = []
_CATEGORY_SOURCES: list[CategorySource] = []


def register_problem_source(fn: ProblemSource) -> None:
    if fn not in _PROBLEM_SOURCES:
        _PROBLEM_SOURCES.append(fn)


def unregister_problem_source(fn: ProblemSource) -> None:
    if fn in _PROBLEM_SOURCES:
        _PROBLEM_SOURCES.remove(fn)


def problem_samples(since: datetime, until: datetime) -> Iterator[ProblemSample]:
    for source in list(_PROBLEM_SOURCES):
        for sample in source(since, until):
            yield ProblemSample(*sample)


def register_category_source(fn: CategorySource) -> None:
    if fn not in _CATEGORY_SOURCES:
        _CATEGORY_SOURCES.append(fn)


def category_choices() -> list[tuple[str, str]]:
    from .categories import DEFAULT_CATEGORIES

    for source in _CATEGORY_SOURCES:
        choices = [(str(c), str(label)) for c, label in source()]
        if choices:
            return choices
    return [(c, str(label)) for c, label in DEFAULT_CATEGORIES]


def category_label(code: str) -> str:
    return dict(category_choices()).get(code, code)
