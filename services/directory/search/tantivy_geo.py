"""How the embedded engine finds listings by place: nearest first in growing circles, every
match's distance read from the coordinate columns for a radius search, a town's circle by the grid
cells it covers (only those on its edge read), and the counts of facets over those inside.

A base of `RankedSearch` (tantivy_ranking), which builds the queries and pages the results; the
index and the caches read here (`_decoded`, `_codes`) are the backend's (`TantivyBackend`)."""

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
    facets_less,
)
from services.directory.search.tantivy_facets import (
    KeptForFiles,
    aggregate_facets,
    count_facets,
    count_matches,
)
from services.directory.search.tantivy_index import (
    CODED_FIELDS,
    DecodedDocuments,
    circle_cells,
    distances_m,
    page_hit,
    value_code,
)
from services.directory.search.tantivy_terms import TermExpansion

BY_WELCOME_RANK: dict[str, Any] = {"order_by_field": "welcome_rank", "order": tantivy.Order.Desc}
# circles a nearest-first search grows through (km) before it reads every match's location
NEAREST_RINGS_KM = (0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 60.0)
# a nearest-first search of at most this many matches reads them all at once, no circles
READ_ALL_NEAREST = 1024
# matches a search reads with their count when it needs them all (more: searched again for all)
ALL_AT_ONCE = 2048
# a radius search's candidates read in one search up to this many (a town's ~19,000: 4.4 ms, 6.4 in 2)
CANDIDATES_AT_ONCE = 32768
WIDE_CIRCLE = 2048  # about where reading at the edge starts to pay (bench/search.py's fresh mix)


class GeoSearch(TermExpansion):
    """Searches by place over one searcher, and the facet counts they share with ranked ones."""

    schema: tantivy.Schema
    _decoded: DecodedDocuments  # the page's listings, kept decoded by the backend
    _kept_facets: KeptForFiles  # searches without words: their facets and totals, by the backend
    _kept_pages: KeptForFiles  # searches without words: their pages' listings, by the backend
    _codes: dict[
        int, str
    ]  # facet value codes -> values (towns, category sets), kept by the backend

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
