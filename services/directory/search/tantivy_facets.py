"""How the embedded engine counts: facet counts over everything a query matches (tantivy's
aggregations over the index's number columns) or over an exact set of listings (their columns
read), how many listings a query matches, and the counts of searches without words kept for a
version of the index files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import tantivy
from tantivy import Query

from services.directory.search.query import DAYS, FACETS, PRICE_BAND_ORDER, order_facet

FACET_TERMS = 10_000  # values one facet aggregation returns (category sets beyond: counted apart)
KEPT_FACETS = 512  # searches without words whose facets are kept (KeptForFiles)
KEPT_PAGES = 256  # pages of searches without words kept (KeptForFiles)
KEPT_PAGE_SIZE = 25  # the largest page kept: at most 6,400 listings, ~23 MB (3.6 KB each decoded)
# the column each facet is counted from over everything a query matches
AGGREGATED = {
    "category": "category_set",
    "town": "town",
    "price_band": "price_band",
    "day": "day_set",
}
# columns with one value in every document: the total a query matches is the sum of the counts
# of any one of them (not category_set: a listing may have no category)
EVERY_DOCUMENT = ("town", "price_band", "day_set")
# a number column every document has, to count a query's matches without scoring them
COUNTED = {"n": {"value_count": {"field": "key"}}}


def count_facets(
    searcher: tantivy.Searcher,
    addresses: list[Any],
    names: tuple[str, ...],
    decode: Callable[[Counter[Any]], dict[str, int]],
) -> dict[str, list[Any]]:
    """Facet counts over an exact set of documents (those inside a circle), from fast fields:
    one column a facet (`decode` names the towns and category sets their codes stand for)."""

    def column(field: str) -> list[Any]:
        return searcher.fast_field_values(field, addresses) if addresses else []

    counts: dict[str, dict[str, int]] = {}
    if "town" in names:
        counts["town"] = decode(Counter(column("town_code")))
    if "price_band" in names:
        bands = Counter(column("band_code"))
        counts["price_band"] = {PRICE_BAND_ORDER[c]: n for c, n in bands.items() if c is not None}
    if "day" in names:
        counts["day"] = _days(Counter(column("day_mask")))
    if "category" in names:
        sets = Counter(column("category_set_code"))
        sets.pop(0, None)  # listings with no category
        counts["category"] = _split_sets(decode(sets))
    return {name: order_facet(name, counts[name]) for name in names if name in counts}


def aggregate_facets(
    searcher: tantivy.Searcher,
    query: Query,
    names: tuple[str, ...],
    *,
    total: bool = False,
) -> tuple[dict[str, list[Any]], int | None]:
    """Facet counts over everything a query matches, by tantivy's terms aggregations, in one
    request of one single-valued column a facet: days from a mask of days, categories from each
    listing's set of categories (`category_set`) split after counting. A terms aggregation over
    a multi-valued text field costs several times more, and a column per category slot cost one
    aggregation a slot. With `total`, also how many documents the query matches, counted in the
    same request (None without)."""
    wanted = [n for n in names if n in FACETS]
    if not wanted and not total:
        return {}, None

    def terms(field: str) -> dict[str, Any]:
        return {"terms": {"field": field, "size": FACET_TERMS, "segment_size": FACET_TERMS}}

    spec = {name: terms(AGGREGATED[name]) for name in wanted}
    counted_by = _total_column(wanted) if total else None
    if total and counted_by is None:
        spec.update(COUNTED)
    answer = searcher.aggregate(query, spec)

    def buckets(key: str, found: dict[str, Any] = answer) -> dict[Any, int]:
        return {b["key"]: int(b["doc_count"]) for b in found.get(key, {}).get("buckets", [])}

    matched: int | None = None
    if counted_by is not None:
        every = answer.get(counted_by, {})
        matched = sum(buckets(counted_by).values()) + int(every.get("sum_other_doc_count", 0))
    elif total:
        matched = int(answer.get("n", {}).get("value", 0))
    counts: dict[str, dict[str, int]] = {}
    for name in wanted:
        if name == "day":
            counts["day"] = _days(buckets("day"))
        elif name == "category":
            if answer.get("category", {}).get("sum_other_doc_count"):
                # more sets than one aggregation returns: count the categories' own field
                every = {"terms": {"field": "category", "size": 10_000, "segment_size": 10_000}}
                found = searcher.aggregate(query, {"c": every})
                counts["category"] = {str(k): n for k, n in buckets("c", found).items()}
            else:
                counts["category"] = _split_sets(buckets("category"))
        else:
            counts[name] = {str(k): n for k, n in buckets(name).items()}
    return {name: order_facet(name, counts[name]) for name in wanted}, matched


def _total_column(wanted: list[str]) -> str | None:
    """The facet among `wanted` whose counts add up to the documents matched, if asked for."""
    return next((n for n in wanted if AGGREGATED[n] in EVERY_DOCUMENT), None)


def count_matches(searcher: tantivy.Searcher, query: Query) -> int:
    """How many documents `query` matches, counted by an aggregation: it does not score them,
    so over a broad match set it costs about a quarter of `search(..., count=True)`."""
    return int(searcher.aggregate(query, COUNTED)["n"]["value"])


def _split_sets(sets: dict[Any, int]) -> dict[str, int]:
    """Counts of category sets as counts of categories (a listing is in each of its set's)."""
    categories: dict[str, int] = {}
    for key, n in sets.items():
        for slug in str(key).split():
            categories[slug] = categories.get(slug, 0) + n
    return categories


# which days (their positions in DAYS) each mask of days holds (bit i: DAYS[i])
_MASK_DAYS = tuple(
    tuple(bit for bit in range(len(DAYS)) if mask & (1 << bit)) for mask in range(128)
)


def _days(masks: dict[Any, int]) -> dict[str, int]:
    """Counts of masks of days as counts of days."""
    totals = [0] * len(DAYS)
    for mask, n in masks.items():
        if mask is None:  # a segment without the column
            continue
        for bit in _MASK_DAYS[int(mask) & 127]:
            totals[bit] += n
    return {day: n for day, n in zip(DAYS, totals, strict=True) if n}


class KeptForFiles:
    """What searches without words found, kept for one version of the index files: the same
    filters over the same files match the same listings, so a later search with the same
    filters reads what an earlier one kept instead of finding it again. The backend keeps two:
    each filter set's facet counts and total (instead of aggregating every match again), and
    each page of its listings, decoded, by filters, order and page (instead of ranking every
    match again and reading the page's listings: Solr's queryResultCache, for searches without
    words). A search with words is never kept (its match set is its own). Every commit, by any
    process, changes the version, and the first search of a new version drops everything kept
    (as does reaching `limit`; `limit` 0 keeps nothing). Those kept are shared between
    searches, which only read them. A search running while a commit lands may keep what it
    found in the newer files under the older version, as it may read either files (the version
    is read before the files are opened, so never older files under a newer version); searches
    that read the newer version never see those."""

    def __init__(self, limit: int = KEPT_FACETS):
        self.limit = limit
        # (version, what is kept for it), replaced in one step: a dict only ever holds what
        # was found for the version it is paired with, whatever searches run at once
        self._state: tuple[int | None, dict[Any, Any]] = (None, {})

    def __len__(self) -> int:
        return len(self._state[1])

    def get(self, version: int, key: Any) -> Any:
        kept_for, kept = self._state
        return kept.get(key) if kept_for == version else None

    def put(self, version: int, key: Any, found: Any) -> None:
        if not self.limit:
            return
        kept_for, kept = self._state
        if kept_for != version or len(kept) >= self.limit:
            kept = {}
            self._state = (version, kept)
        kept[key] = found
