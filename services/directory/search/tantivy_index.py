"""How the embedded engine lays listings out in its tantivy index: the schema and analyzer, each
listing's document (words, filters, and facet values as numbers in fast fields), and the counts
and distances read back from those fast fields."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy
import orjson
import tantivy
from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

from services.directory.domain.search import SearchDocument
from services.directory.search.query import (
    DAYS,
    EARTH_RADIUS_M,
    PRICE_BAND_ORDER,
    GeoPoint,
    SearchHit,
    Shown,
    date_number,
    haversine_m,
    min_price_for_filter,
    price_band,
    price_sort_key,
    shown_fields,
    town_value,
)
from services.directory.search.text import Marked, all_words

SCHEMA_VERSION = "11"
ACTIVE = "active"  # the status a listing is searched in
FOLD = "fold"
NO_MAX_AGE = 1000
DECODED_DOCUMENTS = 4096  # listings kept decoded (a few MB), by the content key of their body
# Gentle boosts for what young people are told matters (issue 12): a little score for each, so
# they order listings that match equally well and never lift a weaker match above a better one.
WELCOME_BOOSTS = {"care_experienced": 0.2, "first_session_free": 0.2, "bring_a_friend": 0.2}
# the text fields whose values are held as codes (value_code) in number columns for circles
CODED_FIELDS = ("town", "category_set")
# a listing's place as a cell of a grid (degrees of latitude, of longitude: about 1.1 km square in
# East Sussex), a term (`cell`): a circle's listings found by its cells' postings (`circle_cells`),
# not by reading the whole catalogue's coordinate columns
CELL_DEGREES = (0.01, 0.016)


def document_key(doc_id: str) -> int:
    """A stable 63-bit integer for an id, so a set of documents can be named in one query."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") >> 1


def content_key(body: bytes) -> int:
    """A stable 63-bit integer for a stored body: equal keys, equal bodies (2^-63 aside)."""
    return int.from_bytes(hashlib.blake2b(body, digest_size=8).digest(), "big") >> 1


def value_code(value: str) -> int:
    """A stable positive 62-bit number for a facet value."""
    return (
        int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big") >> 2
    ) or 1


def schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", fast=True)
    sb.add_integer_field("key", indexed=True, fast=True)
    sb.add_bytes_field("doc", stored=True)
    sb.add_integer_field("rev", fast=True)  # content_key of "doc": which decoded copy is current
    # how many of WELCOME_BOOSTS' welcomes a listing has: with no words to score, the order the
    # boosts give (welcome_rank), read from a column instead of scoring every match
    sb.add_integer_field("welcome_rank", fast=True)
    sb.add_text_field("name", tokenizer_name=FOLD)
    sb.add_text_field("text", tokenizer_name=FOLD)
    for raw in (
        "category",
        "category_set",
        "town",
        "day",
        "time",
        "welcome",
        "price_band",
        "access",
        "language",
        "status",
        # day_mask as text: a terms aggregation counts a text column by its terms' numbers,
        # cheaper than a number column's values over many matches (bench/search.py's 100k:
        # 133 against 260 us over every listing; the same, 40 us, over 5,000)
        "day_set",
    ):
        sb.add_text_field(raw, tokenizer_name="raw", fast=True)
    # a listing's categories and days in pairs (`category_day`): a search for a category on a
    # day walks the listings that have both, not every listing of the category or of the day
    sb.add_text_field("category_day", tokenizer_name="raw")
    # one term ("1") in every listing whose status is not "active": a search that has other
    # filters or words to go on leaves these out (MustNot over a few) instead of intersecting
    # with every active listing's posting (Must status:active)
    sb.add_text_field("unlisted", tokenizer_name="raw")
    for number in ("price", "price_sort", "free", "min_age", "max_age", "fundable_until"):
        sb.add_integer_field(number, indexed=True, fast=True)
    # facet values as numbers in fast fields, so a radius search can count them in bulk
    for code in ("town_code", "band_code", "day_mask", "category_set_code"):
        sb.add_integer_field(code, fast=True)
    # the grid cell of a listing's place (`cell_of`): a circle's listings by its cells' postings
    sb.add_text_field("cell", tokenizer_name="raw")
    sb.add_float_field("lat", indexed=True, fast=True)
    sb.add_float_field("lng", indexed=True, fast=True)
    return sb.build()


def analyzer() -> tantivy.TextAnalyzer:
    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(40))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .build()
    )


def welcome_rank(welcomes: Sequence[str]) -> int:
    """How many of the boosted welcomes a listing has (each counted once, as a term query's
    match counts it): the welcome boosts' share of its score, in steps of one boost."""
    return len(WELCOME_BOOSTS.keys() & set(welcomes))


def category_set(categories: Sequence[str]) -> str:
    """A listing's categories as one value (slugs hold no spaces), so a facet counts each listing's
    set once and splits it after: one single-valued column instead of a column per slot."""
    return " ".join(dict.fromkeys(categories))


def category_day(slug: str, day: str) -> str:
    """A category and a day as one term: slugs hold no spaces, so the pair is read back
    unambiguously (a query names pairs only where neither part holds a space: `joinable`)."""
    return f"{slug} {day}"


def joinable(slugs: Sequence[str], day: str) -> bool:
    """Whether "in any of `slugs`, on `day`" can be asked as `category_day` terms: a listing has
    the term `category_day(s, day)` exactly when it has category s and day `day`, as long as
    neither part holds the separator (then no other pair writes the same term)."""
    return bool(slugs) and " " not in day and not any(" " in slug for slug in slugs)


def to_document(doc: SearchDocument) -> tantivy.Document:
    """A listing as the index holds it: its words, its filters, and its facets as numbers."""
    out = tantivy.Document()
    out.add_text("id", doc.id)
    out.add_integer("key", document_key(doc.id))
    body = json.dumps(doc.as_dict()).encode()
    out.add_bytes("doc", body)
    out.add_integer("rev", content_key(body))
    out.add_text("name", doc.name)
    for part in (
        doc.name,
        " ".join(doc.category_labels),
        doc.organization_name,
        doc.description,
        doc.town or "",
    ):
        out.add_text("text", part)
    for slug in doc.categories:
        out.add_text("category", slug)
    if doc.categories:
        out.add_text("category_set", category_set(doc.categories))
    out.add_text("town", town_value(doc))
    for day in doc.days:
        out.add_text("day", day)
    for pair in {category_day(slug, day) for slug in doc.categories for day in doc.days}:
        out.add_text("category_day", pair)
    for part in doc.times:
        out.add_text("time", part)
    for welcome in doc.welcomes:
        out.add_text("welcome", welcome)
    out.add_integer("welcome_rank", welcome_rank(doc.welcomes))
    out.add_text("price_band", price_band(doc))
    for feature in doc.accessibility:
        out.add_text("access", feature)
    for language in doc.languages:
        out.add_text("language", language)
    out.add_text("status", doc.status)
    if doc.status != ACTIVE:
        out.add_text("unlisted", "1")
    price = min_price_for_filter(doc)
    if price is not None:
        out.add_integer("price", price)
    out.add_integer("price_sort", price_sort_key(doc))
    out.add_integer("free", 1 if doc.is_free else 0)
    out.add_integer("min_age", doc.min_age if doc.min_age is not None else 0)
    out.add_integer("max_age", doc.max_age if doc.max_age is not None else NO_MAX_AGE)
    fundable = date_number(doc.fundable_until)
    if fundable is not None:
        out.add_integer("fundable_until", fundable)
    out.add_integer("town_code", value_code(town_value(doc)))
    out.add_integer("band_code", PRICE_BAND_ORDER.index(price_band(doc)))
    day_mask = sum(1 << DAYS.index(d) for d in set(doc.days) if d in DAYS)
    out.add_integer("day_mask", day_mask)
    out.add_text("day_set", str(day_mask))
    # 0: no categories (no value's code is 0)
    out.add_integer(
        "category_set_code", value_code(category_set(doc.categories)) if doc.categories else 0
    )
    if doc.lat is not None and doc.lng is not None:
        out.add_float("lat", float(doc.lat))
        out.add_float("lng", float(doc.lng))
        if math.isfinite(doc.lat) and math.isfinite(doc.lng):
            out.add_text("cell", cell_of(float(doc.lat), float(doc.lng)))
    return out


def cell_of(lat: float, lng: float) -> str:
    """The grid cell (CELL_DEGREES) a place lies in, as its term: row and column numbers."""
    return _cell(math.floor(lat / CELL_DEGREES[0]), math.floor(lng / CELL_DEGREES[1]))


def _cell(row: int, column: int) -> str:
    return f"{row} {column}"


def circle_cells(centre: GeoPoint, radius_m: float) -> tuple[list[str], list[str]]:
    """The grid cells (their `cell` terms) of every place within `radius_m` of `centre`, and
    those of them on the circle's edge: every place in a cell of the first list and not of
    the second is inside the circle. Drawn with a margin (the circle 1 % larger for the
    first, 1 % smaller for the rest), so a place on a cell's line filed in the next cell is
    never lost. Rows of cells a latitude band; in a row, a cell is wholly inside when its
    corners farthest from the centre are (the farthest point of a small box is a corner)."""
    step_lat, step_lng = CELL_DEGREES
    phi = math.radians(centre.lat)

    def half_width(lat: float, metres: float) -> float | None:
        """Degrees of longitude either side of the centre the circle reaches at `lat`."""
        room = math.sin(metres / (2 * EARTH_RADIUS_M)) ** 2
        room -= math.sin(math.radians(lat - centre.lat) / 2) ** 2
        if room < 0:
            return None
        ratio = room / (math.cos(phi) * math.cos(math.radians(lat)))
        return math.degrees(2 * math.asin(min(1.0, math.sqrt(ratio))))

    outer, inner = radius_m * 1.01 + 10.0, radius_m * 0.99
    reach = math.degrees(outer / EARTH_RADIUS_M)
    cover: list[str] = []
    edge: list[str] = []
    for row in range(
        math.floor((centre.lat - reach) / step_lat), math.floor((centre.lat + reach) / step_lat) + 1
    ):
        low, high = row * step_lat, (row + 1) * step_lat
        near = min(max(centre.lat, low), high)
        far = low if abs(low - centre.lat) > abs(high - centre.lat) else high
        wide = half_width(near, outer)
        if wide is None:
            continue
        whole = half_width(far, inner)
        columns = range(
            math.floor((centre.lng - wide) / step_lng),
            math.floor((centre.lng + wide) / step_lng) + 1,
        )
        terms = [f"{row} {column}" for column in columns]  # as `_cell` writes them
        cover += terms
        if whole is None:
            edge += terms
            continue
        # the columns wholly inside: from the first starting past the circle's west edge to
        # the last ending before its east edge
        first = math.ceil((centre.lng - whole) / step_lng) - columns.start
        last = math.floor((centre.lng + whole) / step_lng) - columns.start  # exclusive
        if first >= last:
            edge += terms
        else:
            edge += terms[: max(0, first)] + terms[last:]
    return cover, edge


def load_document(searcher: tantivy.Searcher, address: Any) -> SearchDocument:
    """The listing stored whole in the document at `address`."""
    raw = searcher.doc(address).get_first("doc")
    if raw is None:
        raise LookupError("an indexed document has no stored body")
    try:
        fields = orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:  # a NaN or Infinity, which json.dumps writes and orjson refuses
        fields = json.loads(bytes(raw))
    return SearchDocument.from_dict(fields)


Decoded = tuple[SearchDocument, Shown, dict[str, str], tuple[Marked, Marked]]


def decoded(doc: SearchDocument) -> Decoded:
    """A listing with what a hit shows of it whatever was searched: its shown fields
    (`shown_fields`, which say their JSON), its highlights when no word was matched, and its
    name and cropped description ready to highlight (`Marked`)."""
    shown = shown_fields(doc)
    name, description = Marked(doc.name), Marked(shown["description"])
    plain = {"name": name.plain, "description": description.plain}
    return doc, shown, plain, (name, description)


def page_hit(
    decoded: Decoded,
    matched: set[str],
    centre: GeoPoint | None,
    distance: float | None,
    words_matched: int,
) -> SearchHit:
    """A page's hit of a kept decoded listing: highlighted from its kept marks (`matched`: the
    folded words the search matched), its distance from `centre` in whole metres."""
    doc, shown, plain, (name, description) = decoded
    if matched:  # as highlight(doc.name, ...), highlight(shown["description"], ...) (cropped)
        highlights = {
            "name": name.highlight(matched),
            "description": description.highlight(matched),
        }
    else:
        highlights = dict(plain)  # its own: a hit's highlights are its answer's
    if distance is None and centre is not None and doc.lat is not None and doc.lng is not None:
        distance = haversine_m(centre, doc.lat, doc.lng)
    rounded = None if distance is None else round(distance)
    return SearchHit(
        document=doc,
        highlights=highlights,
        distance_m=rounded,
        words_matched=words_matched,
        shown=shown,
    )


class DecodedDocuments:
    """Listings decoded from the document store, kept by the content key of their stored body:
    a page's hits are read from the store (a block decompressed, the JSON parsed, a
    `SearchDocument` built: 5-15 µs each) only when not already kept, and with each what a hit
    shows of it whatever was searched (`decoded`), so a page's hits build less. A key names
    content, not a listing, so an edited listing is never served stale: its new body has a new
    key. At `limit`, everything kept is dropped at once (one atomic step under concurrent
    searches), and so it is at every change of the index files (`drop`: a commit here or by
    another process), with what is kept with each listing (its shown fields' JSON). Those kept
    are shared between searches, which only read them."""

    def __init__(self, limit: int = DECODED_DOCUMENTS):
        self.limit = limit
        self._kept: dict[int, Decoded] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def drop(self) -> None:
        """Forget everything kept (a search still reading the old dict keeps its own page)."""
        self._kept = {}

    def load(self, searcher: tantivy.Searcher, addresses: list[Any]) -> list[SearchDocument]:
        """The listings at `addresses`, in their order: one fast-field read for their keys."""
        return [found[0] for found in self.load_shown(searcher, addresses)]

    def load_shown(self, searcher: tantivy.Searcher, addresses: list[Any]) -> list[Decoded]:
        """`load`, each listing with what a hit shows of it (`decoded`)."""
        if not addresses:
            return []
        kept = self._kept
        found: list[Decoded] = []
        for address, key in zip(
            addresses, searcher.fast_field_values("rev", addresses), strict=True
        ):
            known = kept.get(key) if isinstance(key, int) else None
            if known is None:
                known = decoded(load_document(searcher, address))
                if isinstance(key, int):
                    if len(kept) >= self.limit:
                        kept.clear()
                    kept[key] = known
            found.append(known)
        return found


def document_words(doc: SearchDocument) -> set[str]:
    parts = (doc.name, " ".join(doc.category_labels), doc.organization_name, doc.description)
    return set(all_words(" ".join((*parts, doc.town or ""))))


def distances_m(searcher: tantivy.Searcher, addresses: list[Any], centre: GeoPoint) -> Any:
    """Haversine distances in metres from fast fields, NaN where a listing has no location."""
    # numpy reads None as NaN in a float array
    lat = numpy.array(searcher.fast_field_values("lat", addresses), dtype=float)
    lng = numpy.array(searcher.fast_field_values("lng", addresses), dtype=float)
    phi1, phi2 = numpy.radians(centre.lat), numpy.radians(lat)
    dphi = phi2 - phi1
    dlmb = numpy.radians(lng - centre.lng)
    h = numpy.sin(dphi / 2) ** 2 + numpy.cos(phi1) * numpy.cos(phi2) * numpy.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * numpy.arcsin(numpy.minimum(1.0, numpy.sqrt(h)))
