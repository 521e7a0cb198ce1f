"""Scoring search against the judged relevance set (bench/search_relevance.toml): hits@3, MRR, zero results."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.directory.domain.search import SearchDocument

JUDGED_FILE = Path(__file__).resolve().parents[3] / "bench" / "search_relevance.toml"
TOP = 3
MRR_DEPTH = 10


@dataclass(frozen=True)
class Judgement:
    q: str
    categories: tuple[str, ...] = ()
    town: str | None = None
    name: str | None = None

    def relevant(self, doc: SearchDocument) -> bool:
        if self.name is not None and self.name.lower() not in doc.name.lower():
            return False
        if self.categories and not set(self.categories) & set(doc.categories):
            return False
        return self.town is None or doc.town == self.town


@dataclass
class Scores:
    queries: int = 0
    hits_at_3: int = 0
    reciprocal_ranks: float = 0.0
    zero_results: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hit_rate(self) -> float:
        return self.hits_at_3 / self.queries if self.queries else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_ranks / self.queries if self.queries else 0.0

    @property
    def zero_rate(self) -> float:
        return self.zero_results / self.queries if self.queries else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "queries": self.queries,
            "hits_at_3": round(self.hit_rate, 4),
            "mrr": round(self.mrr, 4),
            "zero_result_rate": round(self.zero_rate, 4),
            "misses": self.misses,
        }


def load_judged(path: Path = JUDGED_FILE) -> list[Judgement]:
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return [
        Judgement(
            q=item["q"],
            categories=tuple(item.get("categories", ())),
            town=item.get("town"),
            name=item.get("name"),
        )
        for item in data["query"]
    ]


def score(
    judged: list[Judgement], search: Callable[[str], tuple[int, list[SearchDocument]]]
) -> Scores:
    """`search(q)` gives (total, the first ten documents in order)."""
    scores = Scores()
    for judgement in judged:
        total, docs = search(judgement.q)
        scores.queries += 1
        if total == 0:
            scores.zero_results += 1
        rank = next(
            (i + 1 for i, doc in enumerate(docs[:MRR_DEPTH]) if judgement.relevant(doc)), None
        )
        if rank is not None:
            scores.reciprocal_ranks += 1 / rank
        if rank is not None and rank <= TOP:
            scores.hits_at_3 += 1
        else:
            scores.misses.append(
                {"q": judgement.q, "rank": rank, "top": [d.name for d in docs[:TOP]]}
            )
    return scores
