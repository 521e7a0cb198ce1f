"""Pagination for SQLAlchemy 2 `select()` statements, with an exact total."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_PER_PAGE = 100


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    def envelope(self, items: list[Any] | None = None) -> dict[str, Any]:
        return {
            "items": self.items if items is None else items,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
        }


def paginate(
    session: Session, statement: Select[Any], page: int = 1, per_page: int = 20
) -> Page[Any]:
    """Run one page of `statement` (which should be ordered) and count every row it would return."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    count_stmt = select(func.count()).select_from(statement.order_by(None).subquery())
    total = session.execute(count_stmt).scalar_one()
    rows = session.execute(statement.limit(per_page).offset((page - 1) * per_page))
    items = list(rows.scalars().all()) if len(statement.selected_columns) == 1 else list(rows.all())
    return Page(items=items, total=total, page=page, per_page=per_page)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, strict=False, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PageEnvelopeSchema(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
