"""How the embedded engine ranks and pages a search: a typed word's index terms as a weighted
query, the filters, Meilisearch's word-dropping buckets (listings matching every word first, then
fewer, words dropped from the end), nearest-first rings, radius searches, facets and hits.

A mixin of `TantivyBackend`, which owns the index files and the caches read here (`_codes`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy
import tantivy
from tantivy import FieldType, Occur, Query

from services.directory.search.query import (
    GeoPoint,
    SearchQuery,
    SearchResult,
    bounding_box,
    date_number,
    facets_less,
)
from services.directory.search.tantivy_index import (
    ACTIVE,
    CODED_FIELDS,
    WELCOME_BOOSTS,
    DecodedDocuments,
    KeptFacets,
    aggregate_facets,
    category_day,
    circle_cells,
    count_facets,
    count_matches,
    distances_m,
    joinable,
    page_hit,
    value_code,
)
from services.directory.search.tantivy_terms import TermExpansion

NAME_BOOST = 3.0  # the "attribute" rule: a word in the name outranks one in the description
# With no words, a listing's score is its welcome boosts alone: equal boosts order listings as the
# number of them each has does (`welcome_rank`, a column), ties by address as scores tie.
RANK_BY_COLUMN = len(set(WELCOME_BOOSTS.values())) == 1 and min(WELCOME_BOOSTS.values()) > 0
BY_WELCOME_RANK: dict[str, Any] = {"order_by_field": "welcome_rank", "order": tantivy.Order.Desc}
BY_PRICE: dict[str, Any] = {"order_by_field": "price_sort", "order": tantivy.Order.Asc}
# circles a nearest-first search grows through (km) before it reads every match's location
NEAREST_RINGS_KM = (0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 60.0)
# a nearest-first search of at most this many matches reads them all at once, no circles
READ_ALL_NEAREST = 1024
# a category and a day asked together are searched as their pairs' terms (`category_day`);
# False: as the two filters apart (the differential tests' slow way)
JOIN_CATEGORY_DAY = True
# matches a search reads with their count when it needs them all (more: searched again for all)
ALL_AT_ONCE = 2048
# a radius search's candidates read in one search up to this many (a town's ~19,000: 4.4 ms, 6.4 in 2)
CANDIDATES_AT_ONCE = 32768
# a radius search nearest first, in one bucket, is searched by the grid cells its circle covers
# (`circle_cells`), not its box's coordinate ranges (each reads a whole column); with more than
# WIDE_CIRCLE listings in them, only those in the cells on the circle's edge are read
# (`_circle_search`). False: the box's ranges, every candidate read (the tests' slow way)
CIRCLE_BY_CELLS = True
WIDE_CIRCLE = 2048  # about where reading at the edge starts to pay (bench/search.py's fresh mix)


class RankedSearch(TermExpansion):
    """Queries, ranking and paging over one searcher; the index itself is the backend's."""

    schema: tantivy.Schema
    _decoded: DecodedDocuments  # the page's listings, kept decoded by the backend
    _kept_facets: KeptFacets  # searches without words: their facets and totals, by the backend
    _codes: dict[
        int, str
    ]  # facet value codes -> values (towns, category sets), kept by the backend

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
        filters) under which a search without words keeps its facets and total (KeptFacets)."""
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
                hits = searcher.search(
                    bucket, query.per_page, count=False, offset=query.offset, **order
                ).hits
                page = [(k, address, None) for _key, address in hits[: query.per_page]]
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
        hits = [
            page_hit(doc, matched, query.near, metres, k)
            for doc, (k, _address, metres) in zip(docs, page, strict=True)
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

    def _nearest(
        self,
        searcher: tantivy.Searcher,
        query: Query,
        centre: GeoPoint,
        wanted: int,
        ranked: dict[str, Any],
        total: int | None = None,
    ) -> tuple[int, list[tuple[float | None, Any]]]:
        """How many listings `query` matches (`total`, when already counted), and the nearest
        `wanted` of them (nearest first, the better match first at the same distance, those
        with no location last), found in growing circles: once a circle holds `wanted`
        listings, none outside it is nearer. A circle's square is counted before its listings
        are read, so a busy town reads few. `ranked`: how `searcher.search` ranks matches."""
        if total is None:
            total = count_matches(searcher, query)
        if not total:
            return 0, []
        enough = min(wanted, total)
        s = self.schema
        # few matches: all of them read in one search (the loop's else) costs less than the
        # circles' searches, up to seven
        rings = NEAREST_RINGS_KM if total > READ_ALL_NEAREST else ()
        for radius_km in rings:
            min_lat, max_lat, min_lng, max_lng = bounding_box(centre, radius_km * 1000.0)
            boxed = Query.boolean_query(
                [
                    (Occur.Must, query),
                    (Occur.Must, Query.range_query(s, "lat", FieldType.Float, min_lat, max_lat)),
                    (Occur.Must, Query.range_query(s, "lng", FieldType.Float, min_lng, max_lng)),
                ]
            )
            in_box, found = self._every(searcher, boxed, ranked)
            if in_box < enough and in_box < total:
                continue
            metres = distances_m(searcher, [a for _s, a in found], centre)
            if in_box == total or int((metres <= radius_km * 1000.0).sum()) >= enough:
                break
        else:
            found = self._all(searcher, query, ranked)
            metres = distances_m(searcher, [a for _s, a in found], centre)
        scores = numpy.array([score for score, _a in found], dtype=float)
        order = numpy.lexsort((-scores, metres))[:wanted]  # NaN (no location) sorts last
        return total, [
            (None if numpy.isnan(metres[i]) else float(metres[i]), found[i][1]) for i in order
        ]

    def _all(
        self, searcher: tantivy.Searcher, query: Query, ranked: dict[str, Any], at_once: int = 0
    ) -> list[tuple[float, Any]]:
        """Every match as (its rank: a score or its `welcome_rank`, address), best first."""
        return self._every(searcher, query, ranked, at_once)[1]

    def _every(
        self, searcher: tantivy.Searcher, query: Query, ranked: dict[str, Any], at_once: int = 0
    ) -> tuple[int, list[tuple[float, Any]]]:
        """How many listings `query` matches, and every one (as `_all`): read with their count in
        one search when few enough (`at_once` or ALL_AT_ONCE), else searched again for all of
        them (a search's limit sizes what it holds, so not every listing each time)."""
        at_once = at_once or ALL_AT_ONCE
        found = searcher.search(query, at_once, count=True, **ranked)
        total = found.count or 0  # type: ignore[attr-defined]  # the stub lacks count
        if total > at_once:
            found = searcher.search(query, total, count=False, **ranked)
        return total, found.hits

    def _geo_search(
        self,
        searcher: tantivy.Searcher,
        query: SearchQuery,
        union: Query,
        buckets: list[tuple[int, Query]],
        matched: set[str],
        ranked: dict[str, Any],
        read: list[tuple[float, Any]] | None = None,
    ) -> SearchResult:
        """Every match's distance is needed: the filters already hold the radius's bounding box,
        so read the candidates' coordinates from fast fields and keep those inside the circle.
        More words matched still comes first; within that, the order asked for. `read`: the
        one bucket's matches, already read (as `_all` reads them)."""
        assert query.near is not None
        # every bucket's matches in bucket order, as columns (a score and an address a match)
        if read is not None:
            each = [(buckets[0][0], read)]
        else:
            each = [(k, self._all(searcher, q, ranked, CANDIDATES_AT_ONCE)) for k, q in buckets]
        pairs = [pair for _k, hits in each for pair in hits] if len(each) > 1 else each[0][1]
        addresses = [address for _score, address in pairs]
        distances = distances_m(searcher, addresses, query.near) if pairs else numpy.zeros(0)
        scores = numpy.array([score for score, _address in pairs], dtype=float)
        kept_words = numpy.repeat(
            numpy.array([k for k, _h in each], dtype=float), [len(h) for _k, h in each]
        )
        keep = numpy.arange(len(pairs))
        if query.radius_m is not None:
            keep = keep[distances <= query.radius_m]  # NaN (no location) is never inside
        if query.sort == "distance":
            keys: tuple[Any, ...] = (-scores[keep], distances[keep])
        elif query.sort == "price":
            kept_addresses = [addresses[i] for i in keep.tolist()]
            prices = numpy.array(
                searcher.fast_field_values("price_sort", kept_addresses), dtype=float
            )
            keys = (distances[keep], prices)
        else:
            keys = (distances[keep], -scores[keep])
        order = keep[numpy.lexsort((*keys, -kept_words[keep]))]
        chosen = order[query.offset : query.offset + query.per_page].tolist()
        docs = self._decoded.load_shown(searcher, [addresses[i] for i in chosen])
        hits = [
            page_hit(
                doc,
                matched,
                query.near,
                None if numpy.isnan(distances[i]) else float(distances[i]),
                int(kept_words[i]),
            )
            for doc, i in zip(docs, chosen, strict=True)
        ]
        if not len(keep):
            facets: dict[str, list[Any]] = {}
        elif len(keep) > ALL_AT_ONCE and 2 * len(keep) > len(pairs):
            # many inside (most of those read): the union's counts by one aggregation less those
            # outside read from their columns (a town's ~19,000 candidates: 2.7 against 5.2 ms)
            out = [addresses[i] for i in numpy.delete(numpy.arange(len(pairs)), keep).tolist()]
            less = count_facets(searcher, out, query.facets, lambda c: self._decode(searcher, c))
            facets = facets_less(self._facets(searcher, union, query.facets), less)
        else:
            # from the columns of the listings already read: cheaper than aggregating over
            # the union, which would run the whole search again (bench/search.py's radius
            # searches, about 900 candidates: 0.28 against 0.57 ms CPU)
            every = len(keep) == len(pairs)
            inside_at = addresses if every else [addresses[i] for i in keep.tolist()]
            facets = count_facets(
                searcher, inside_at, query.facets, lambda codes: self._decode(searcher, codes)
            )
        inside = kept_words[keep]
        return SearchResult(
            total=len(keep),
            page=query.page,
            per_page=query.per_page,
            hits=hits,
            facets=facets,
            matched_all=int((inside == buckets[0][0]).sum()),
            best_matched=int(inside.max()) if len(keep) else 0,
        )

    def _circle_search(
        self,
        searcher: tantivy.Searcher,
        query: SearchQuery,
        union: Query,
        core: list[tuple[Occur, Query]],
        k: int,
        matched: set[str],
        ranked: dict[str, Any],
    ) -> SearchResult:
        """`_geo_search`'s answer for one bucket nearest first (`union`: its query, every
        match having matched k words; `core`: its clauses without the box). Up to WIDE_CIRCLE
        candidates in the box: `_geo_search` itself, given those read to count them (one
        search, as CANDIDATES_AT_ONCE reads them). More
        (a town's 10 km, ~20,000): the circle's grid cells stand for its box (no coordinate
        column read whole), and only the matches in the cells on its edge are read, their
        distances saying which are outside; the total and the facets are the cells' (one
        count, one aggregation) less those outside; the page is the nearest in the first of
        NEAREST_RINGS_KM's circles that holds it (`_nearest_within`). The same answer either
        way: a page's order is its matches' rank order (the cells score nothing) sorted
        stably by distance."""
        assert query.near is not None and query.radius_m is not None
        centre, radius = query.near, query.radius_m
        probe = searcher.search(union, WIDE_CIRCLE, count=True, **ranked)
        in_box = probe.count or 0  # type: ignore[attr-defined]  # the stub lacks count
        if in_box <= WIDE_CIRCLE:
            return self._geo_search(
                searcher, query, union, [(k, union)], matched, ranked, probe.hits
            )
        wanted = query.offset + query.per_page
        page = self._nearest_within(searcher, core, centre, radius, wanted, ranked)
        if page is None:
            return self._geo_search(searcher, query, union, [(k, union)], matched, ranked)
        cover, edge = circle_cells(centre, radius)
        covered = self._in_cells(core, cover)
        in_cover = count_matches(searcher, covered)
        _n, found = self._every(
            searcher, self._in_cells(core, edge), BY_WELCOME_RANK, CANDIDATES_AT_ONCE
        )
        addresses = [address for _rank, address in found]
        metres = distances_m(searcher, addresses, centre).tolist() if found else []
        out = [a for a, m in zip(addresses, metres, strict=True) if not m <= radius]
        total = in_cover - len(out)
        facets: dict[str, list[Any]] = {}
        if query.facets:
            less = count_facets(searcher, out, query.facets, lambda c: self._decode(searcher, c))
            facets = facets_less(self._facets(searcher, covered, query.facets), less)
        chosen = page[query.offset : wanted]
        docs = self._decoded.load_shown(searcher, [address for _m, address in chosen])
        hits = [
            page_hit(doc, matched, centre, m, k)
            for doc, (m, _address) in zip(docs, chosen, strict=True)
        ]
        return SearchResult(
            total=total,
            page=query.page,
            per_page=query.per_page,
            hits=hits,
            facets=facets,
            matched_all=total,
            best_matched=k,
        )

    def _in_cells(self, clauses: list[tuple[Occur, Query]], cells: list[str]) -> Query:
        """The matches of `clauses` in `cells`, scored as `clauses` score them (in one boolean
        query: a clause may be a MustNot, which matches nothing on its own)."""
        inside = Query.const_score_query(Query.term_set_query(self.schema, "cell", cells), 0.0)
        return Query.boolean_query([*clauses, (Occur.Must, inside)])

    def _nearest_within(
        self,
        searcher: tantivy.Searcher,
        query: list[tuple[Occur, Query]],
        centre: GeoPoint,
        radius: float,
        wanted: int,
        ranked: dict[str, Any],
    ) -> list[tuple[float, Any]] | None:
        """The nearest `wanted` matches of `query` (its clauses) as (metres, address), nearest
        first and the better ranked first at the same distance: from the first of
        NEAREST_RINGS_KM's circles smaller than `radius` that holds `wanted` (none outside it
        is nearer), found by its cells; None when none does."""
        for ring_km in NEAREST_RINGS_KM:
            ring = ring_km * 1000.0
            if ring >= radius:
                return None
            n, found = self._every(
                searcher, self._in_cells(query, circle_cells(centre, ring)[0]), ranked
            )
            if n < wanted:
                continue
            metres = distances_m(searcher, [a for _s, a in found], centre)
            if int((metres <= ring).sum()) < wanted:
                continue
            scores = numpy.array([score for score, _a in found], dtype=float)
            order = numpy.lexsort((-scores, metres))[:wanted].tolist()
            return [(float(metres[i]), found[i][1]) for i in order]
        return None

    def _facets(
        self, searcher: tantivy.Searcher, query: Query, names: tuple[str, ...]
    ) -> dict[str, list[Any]]:
        return aggregate_facets(searcher, query, names)[0]

    def _decode(self, searcher: tantivy.Searcher, codes: Counter[Any]) -> dict[str, int]:
        if any(code is not None and code not in self._codes for code in codes):
            values = [t for f in CODED_FIELDS for t, _n in searcher.terms_with_prefix(f, "")]
            self._codes.update((value_code(v), v) for v in values)
        out: dict[str, int] = {}
        for code, n in codes.items():
            if code is not None:
                value = self._codes.get(code, "unknown")
                out[value] = out.get(value, 0) + n
        return out


def _best(counts: list[tuple[int, int]]) -> int:
    """The most words any listing matched: the first bucket counted with anything in it."""
    return next((k for k, n in counts if n), 0)
