"""How the embedded engine ranks and pages a search: a typed word's index terms as a weighted
query, the filters, Meilisearch's word-dropping buckets (listings matching every word first, then
fewer, words dropped from the end), the facets and the page; searches by place are
`GeoSearch`'s (tantivy_geo).

A mixin of `TantivyBackend`, which owns the index files and the caches read here."""

from __future__ import annotations

from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from services.directory.search.query import SearchQuery, SearchResult, bounding_box, date_number
from services.directory.search.tantivy_facets import KEPT_PAGE_SIZE, aggregate_facets
from services.directory.search.tantivy_geo import BY_WELCOME_RANK, GeoSearch
from services.directory.search.tantivy_index import (
    ACTIVE,
    WELCOME_BOOSTS,
    Decoded,
    category_day,
    joinable,
    page_hit,
)

NAME_BOOST = 3.0  # the "attribute" rule: a word in the name outranks one in the description
# With no words, a listing's score is its welcome boosts alone: equal boosts order listings as the
# number of them each has does (`welcome_rank`, a column), ties by address as scores tie.
RANK_BY_COLUMN = len(set(WELCOME_BOOSTS.values())) == 1 and min(WELCOME_BOOSTS.values()) > 0
BY_PRICE: dict[str, Any] = {"order_by_field": "price_sort", "order": tantivy.Order.Asc}
# a category and a day asked together are searched as their pairs' terms (`category_day`);
# False: as the two filters apart (the differential tests' slow way)
JOIN_CATEGORY_DAY = True
# a radius search nearest first, in one bucket, is searched by the grid cells its circle covers
# (`circle_cells`), not its box's coordinate ranges (each reads a whole column); with more than
# WIDE_CIRCLE listings in them, only those in the cells on the circle's edge are read
# (`_circle_search`). False: the box's ranges, every candidate read (the tests' slow way)
CIRCLE_BY_CELLS = True


class RankedSearch(GeoSearch):
    """Queries, ranking and paging over one searcher; the index itself is the backend's."""

    def _word_query(self, word: str, last: bool) -> tuple[Query | None, list[str]]:
        """Any of the index terms a typed word stands for, each weighted; None when none is."""
        expansions = self.expand(word, last)
        if not expansions:
            return None, []
        options: list[tuple[Occur, Query]] = []
        for term, weight in expansions:
            for field, boost in (("name", weight * NAME_BOOST), ("text", weight)):
                options.append(
                    (
                        Occur.Should,
                        Query.boost_query(Query.term_query(self.schema, field, term), boost),
                    )
                )
        return Query.boolean_query(options), [term for term, _w in expansions]

    def _prefix_queries(self, query_words: list[str]) -> tuple[list[list[Query]], set[str]]:
        """For each k from 0 while the words stand for something indexed: what a listing must
        match to match the first k words (the k-th read as a last word, so a prefix: when
        "walks" is dropped from "photogr walks", "photogr" completes). Each k's listings are
        among the k - 1's."""
        found: list[list[Query]] = [[]]
        matched: set[str] = set()
        exact: list[Query] = []
        for position, word in enumerate(query_words):
            as_last, terms = self._word_query(word, last=True)
            if as_last is None:
                break
            found.append([*exact, as_last])
            matched.update(terms)
            if position == len(query_words) - 1:
                break
            as_middle, _terms = self._word_query(word, last=False)
            if as_middle is None:
                break
            exact.append(as_middle)
        return found, matched

    def _filters(self, query: SearchQuery, box: bool = True) -> list[Query]:
        """What a listing must match beyond being active (`_listed` adds that); `box`: with
        a radius's bounding box (its coordinate ranges)."""
        s = self.schema
        found = []
        # a category and a day: their pairs' terms, whose listings are those of both (fewer
        # than either's, so the search walks fewer); otherwise each filter on its own
        day = query.day or ""
        paired = bool(JOIN_CATEGORY_DAY and day and joinable(query.categories, day))
        if paired:
            pairs = [category_day(c, day) for c in query.categories]
            found.append(
                Query.boolean_query(
                    [(Occur.Should, Query.term_query(s, "category_day", p)) for p in pairs]
                )
            )
        elif query.categories:
            found.append(
                Query.boolean_query(
                    [(Occur.Should, Query.term_query(s, "category", c)) for c in query.categories]
                )
            )
        ceiling = query.ceiling_pence()
        if ceiling is not None:
            found.append(Query.range_query(s, "price", FieldType.Integer, 0, ceiling))
        if query.age is not None:
            found.append(Query.range_query(s, "min_age", FieldType.Integer, -1, query.age))
            found.append(Query.range_query(s, "max_age", FieldType.Integer, query.age, 10**6))
        if query.day and not paired:
            found.append(Query.term_query(s, "day", query.day))
        for field, values in (("day", query.days), ("time", query.times)):
            if values:
                found.append(
                    Query.boolean_query(
                        [(Occur.Should, Query.term_query(s, field, v)) for v in values]
                    )
                )
        for welcome in query.welcomes:
            found.append(Query.term_query(s, "welcome", welcome))
        for feature in query.accessibility:
            found.append(Query.term_query(s, "access", feature))
        if query.language:
            found.append(Query.term_query(s, "language", query.language))
        if query.funding_ready_only:
            today = date_number(query.today)
            found.append(
                Query.range_query(s, "fundable_until", FieldType.Integer, today, 99_991_231)
            )
        if box and query.near is not None and query.radius_m is not None:
            min_lat, max_lat, min_lng, max_lng = bounding_box(query.near, query.radius_m)
            found.append(Query.range_query(s, "lat", FieldType.Float, min_lat, max_lat))
            found.append(Query.range_query(s, "lng", FieldType.Float, min_lng, max_lng))
        return found

    def _filter_key(self, query: SearchQuery) -> tuple[Any, ...]:
        """Everything `_filters` reads, and the facets asked for: searches with equal keys and
        no words match the same listings and count the same facets."""
        return (
            query.categories,
            query.ceiling_pence(),
            query.age,
            query.day,
            query.days,
            query.times,
            query.welcomes,
            query.accessibility,
            query.language,
            date_number(query.today) if query.funding_ready_only else None,
            (query.near, query.radius_m) if query.radius_m is not None else None,
            query.facets,
        )

    def _listed(self, narrowed: bool) -> tuple[Occur, Query]:
        """Only active listings: when something else narrows the search (`narrowed`: a filter
        or a word every listing must match), by leaving out the few that are not (their
        `unlisted` term), which costs less than intersecting with every active listing;
        with nothing else to go on, by the active listings themselves (a search of nothing
        but exclusions would walk every document)."""
        if narrowed:
            return Occur.MustNot, Query.term_query(self.schema, "unlisted", "1")
        return Occur.Must, Query.const_score_query(
            Query.term_query(self.schema, "status", ACTIVE), 0.0
        )

    def _rank(
        self,
        searcher: tantivy.Searcher,
        query: SearchQuery,
        query_words: list[str],
        last: bool,
        version: int | None = None,
    ) -> SearchResult:
        """The page for `query_words`: listings matching every word first, then fewer (words
        dropped from the end), down to the first word when `last` allows dropping, else none.
        `version`: of the index files `searcher` reads (read before it was opened), under which
        a search without words keeps its facets; None keeps nothing."""
        prefixes, matched = self._prefix_queries(query_words)
        most = len(prefixes) - 1  # the most words a listing can match
        at_least = min(1, len(query_words)) if last else len(query_words)
        if most < at_least:  # a word that must match stands for nothing indexed
            return SearchResult(total=0, page=query.page, per_page=query.per_page, hits=[])
        # one bucket nearest first in a circle: searched by the circle's cells (`_circle_search`)
        by_cells = (
            CIRCLE_BY_CELLS
            and most == at_least
            and query.sort == "distance"
            and query.near is not None
            and query.radius_m is not None
            and query.radius_m <= 100_000
            and abs(query.near.lat) <= 80
        )
        filters = self._filters(query)
        base = [(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters]
        base.append(self._listed(bool(filters or query_words)))
        # Listings' scores, in the order they rank them: with words, tantivy's scores (the words'
        # and the welcome boosts'); with none, every score would be the boosts' alone, so the
        # `welcome_rank` column orders them the same (ties by address, as equal scores) without
        # scoring every match (`order` for `searcher.search`: {} to score)
        order: dict[str, Any] = BY_WELCOME_RANK if RANK_BY_COLUMN and not query_words else {}
        if not order:
            base += [
                (
                    Occur.Should,
                    Query.const_score_query(Query.term_query(self.schema, "welcome", w), b),
                )
                for w, b in WELCOME_BOOSTS.items()
            ]

        def matching(k: int) -> Query:
            """Listings matching the first k words and not the first k + 1."""
            clauses = base + [(Occur.Must, q) for q in prefixes[k]]
            if k < most:
                more = Query.boolean_query([(Occur.Must, q) for q in prefixes[k + 1]])
                clauses.append((Occur.MustNot, more))
            return Query.boolean_query(clauses)

        union = Query.boolean_query(base + [(Occur.Must, q) for q in prefixes[at_least]])
        buckets = [(k, matching(k)) for k in range(most, at_least - 1, -1)]
        if by_cells:
            # the same clauses with no box: the circle's cells stand for it
            boxless = self._filters(query, box=False)
            core = [(Occur.Must, Query.const_score_query(f, 0.0)) for f in boxless]
            core += base[len(filters) :]  # the listed clause and any welcome boosts
            core += [(Occur.Must, q) for q in prefixes[most]]
            result = self._circle_search(searcher, query, union, core, most, matched, order)
        elif query.near is not None and query.radius_m is not None:
            result = self._geo_search(searcher, query, union, buckets, matched, order)
        else:
            kept = None if query_words or version is None else (version, self._filter_key(query))
            result = self._ranked_search(searcher, query, union, buckets, matched, order, kept)
        result.matched_all = result.matched_all if most == len(query_words) else 0
        return result

    def _ranked_search(
        self,
        searcher: tantivy.Searcher,
        query: SearchQuery,
        union: Query,
        buckets: list[tuple[int, Query]],
        matched: set[str],
        ranked: dict[str, Any],
        kept: tuple[int, Any] | None = None,
    ) -> SearchResult:
        """The page, bucket after bucket (more words matched first); a bucket is asked for
        only while the page has room, and the total is one count of the union. `ranked`: how
        `searcher.search` orders a bucket by relevance ({}: by score). `kept`: (files version,
        filters) under which a search without words keeps its facets and total, and its pages
        (KeptForFiles)."""
        order = BY_PRICE if query.sort == "price" else ranked
        nearest = query.sort == "distance" and query.near is not None
        if len(buckets) == 1 and query.facets:
            # One bucket (no words, or every word required): its count and facets in one
            # aggregation, then only its page read; none when nothing matched
            known = self._kept_facets.get(*kept) if kept else None
            if known is None:
                counted, union_total = aggregate_facets(searcher, union, query.facets, total=True)
                known = (counted, union_total or 0)
                if kept:
                    self._kept_facets.put(*kept, known)
            counted, total = dict(known[0]), known[1]
            k, bucket = buckets[0]
            page: list[tuple[int, Any, float | None]] = []
            if total and nearest:
                assert query.near is not None
                _n, nearby = self._nearest(
                    searcher, bucket, query.near, query.offset + query.per_page, order, total
                )
                page = [(k, address, metres) for metres, address in nearby[query.offset :]]
            elif total:
                # the page's listings as kept for these filters, order and page, else found
                keeps = kept if query.per_page <= KEPT_PAGE_SIZE else None
                at = (keeps[1], query.sort, query.offset, query.per_page) if keeps else None
                shown = self._kept_pages.get(keeps[0], at) if keeps else None
                if shown is None:
                    hits = searcher.search(
                        bucket, query.per_page, count=False, offset=query.offset, **order
                    ).hits
                    addresses = [address for _key, address in hits[: query.per_page]]
                    shown = self._decoded.load_shown(searcher, addresses)
                    if keeps:
                        self._kept_pages.put(keeps[0], at, shown)
                return self._result(
                    query, shown, [(k, None)] * len(shown), matched, total, counted, [(k, total)]
                )
            return self._page(
                searcher, query, page, matched, total, counted if total else {}, [(k, total)]
            )
        page = []
        counts: list[tuple[int, int]] = []
        consumed = 0
        for k, bucket in buckets:
            room = query.per_page - len(page)
            if room <= 0:
                break
            skip = max(0, query.offset - consumed)
            if nearest:
                assert query.near is not None
                n, near = self._nearest(searcher, bucket, query.near, skip + room, order)
                page.extend((k, address, metres) for metres, address in near[skip:])
            else:
                found = searcher.search(bucket, room, count=True, offset=skip, **order)
                page.extend((k, address, None) for _key, address in found.hits[:room])
                n = found.count or 0  # type: ignore[attr-defined]  # the stub lacks count
            counts.append((k, n))
            consumed += n
        facets: dict[str, list[Any]] = {}
        if len(counts) == len(buckets):
            total = consumed
            if total:
                facets = self._facets(searcher, union, query.facets)
        else:  # the page is full before the last bucket: the union's count, with its facets
            found_facets, union_total = aggregate_facets(searcher, union, query.facets, total=True)
            facets, total = found_facets, union_total or 0
        return self._page(searcher, query, page, matched, total, facets, counts)

    def _page(
        self,
        searcher: tantivy.Searcher,
        query: SearchQuery,
        page: list[tuple[int, Any, float | None]],
        matched: set[str],
        total: int,
        facets: dict[str, list[Any]],
        counts: list[tuple[int, int]],
    ) -> SearchResult:
        """The result of a page of (words matched, address, metres or None) hits."""
        docs = self._decoded.load_shown(searcher, [address for _k, address, _metres in page])
        placed = [(k, metres) for k, _address, metres in page]
        return self._result(query, docs, placed, matched, total, facets, counts)

    def _result(
        self,
        query: SearchQuery,
        docs: list[Decoded],
        placed: list[tuple[int, float | None]],
        matched: set[str],
        total: int,
        facets: dict[str, list[Any]],
        counts: list[tuple[int, int]],
    ) -> SearchResult:
        """The result of a page of listings (decoded), each with (words matched, metres)."""
        hits = [
            page_hit(doc, matched, query.near, metres, k)
            for doc, (k, metres) in zip(docs, placed, strict=True)
        ]
        return SearchResult(
            total=total,
            page=query.page,
            per_page=query.per_page,
            hits=hits,
            facets=facets,
            matched_all=counts[0][1] if counts else 0,
            best_matched=_best(counts),
        )


def _best(counts: list[tuple[int, int]]) -> int:
    """The most words any listing matched: the first bucket counted with anything in it."""
    return next((k for k, n in counts if n), 0)
