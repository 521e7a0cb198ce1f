"""Instruments as data: a catalogue of them, checking a young person's answers, and scoring them.
Reading instrument files is the adapters' job (services/outcomes/adapters/instrument_files.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.outcomes.domain.scheme_settings import DEFAULT_SET, SELF, InstrumentSet

FREE_TEXT_MAX = 1000

# Questions that are not from an instrument: asked at follow-ups only.
HELPED: dict[str, Any] = {
    "key": "helped",
    "text": "Has it helped?",
    "label": "Did it help",
    "scale": {
        "type": "choice",
        "options": [
            {"value": 1, "label": "No"},
            {"value": 2, "label": "A little"},
            {"value": 3, "label": "Yes, a lot"},
        ],
    },
    "required": True,
}
ACTIVITY_RATING: dict[str, Any] = {
    "key": "activity_rating",
    "text": "How would you rate the activity?",
    "label": "Rating of the activity",
    "scale": {
        "type": "choice",
        "options": [
            {"value": 1, "label": "Very poor"},
            {"value": 2, "label": "Poor"},
            {"value": 3, "label": "OK"},
            {"value": 4, "label": "Good"},
            {"value": 5, "label": "Very good"},
        ],
    },
    "required": True,
}
DIFFERENCE: dict[str, Any] = {
    "key": "difference",
    "text": "What difference has it made? Tell us in your own words.",
    "label": "What difference it made",
    "scale": {"type": "text", "max_length": FREE_TEXT_MAX},
    "required": False,
}


class InstrumentError(ValueError):
    """An instrument file that doesn't describe a usable instrument."""


@dataclass(frozen=True)
class Score:
    """One number an instrument yields from its items (an item itself, a sum, or a converted sum)."""

    key: str
    label: str
    sources: tuple[str, ...]
    method: str
    higher_is_better: bool
    ordinal: bool
    meaningful_change: float
    minimum: float
    maximum: float
    conversion: dict[int, float] | None = None
    bands: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    licence: str
    attribution: str
    validated: bool
    items: tuple[dict[str, Any], ...]
    scores: tuple[Score, ...]
    intro: str = ""
    optional: bool = False
    benchmark: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def item(self, key: str) -> dict[str, Any]:
        return next(i for i in self.items if i["key"] == key)

    def score(self, answers: dict[str, int]) -> dict[str, float]:
        """Scores keyed `instrument.score` from answers keyed by item key (already validated)."""
        return {f"{self.id}.{s.key}": _score(s, answers) for s in self.scores}


def _score(score: Score, answers: dict[str, int]) -> float:
    values = [answers[k] for k in score.sources]
    if score.method == "item":
        return float(values[0])
    total = sum(values)
    if score.method == "sum":
        return float(total)
    if score.method == "sum_then_table" and score.conversion is not None:
        return score.conversion[total]
    raise InstrumentError(f"Unknown scoring method {score.method!r}.")


def item_range(item: dict[str, Any]) -> tuple[int, int]:
    scale = item["scale"]
    if scale["type"] == "numeric":
        return int(scale["min"]), int(scale["max"])
    values = [int(o["value"]) for o in scale["options"]]
    return min(values), max(values)


def band_of(bands: tuple[dict[str, Any], ...], value: float) -> str | None:
    for band in bands:
        if band["min"] <= value <= band["max"]:
            return str(band["label"])
    return None


def parse_instrument(data: dict[str, Any], scoring: dict[str, Any] | None = None) -> Instrument:
    """An instrument from its JSON description; `scoring` adds a shipped conversion table."""
    try:
        items = tuple(data["items"])
        if not items:
            raise InstrumentError("An instrument needs at least one item.")
        for item in items:
            item_range(item)
            if not item.get("text") or not item.get("key"):
                raise InstrumentError("Every item needs a key and text.")
        by_key = {i["key"]: i for i in items}
        bands_table = data.get("bands", {})
        scores = []
        for raw in data.get("scores") or _item_scores(items):
            sources = tuple(raw["from"])
            missing = [s for s in sources if s not in by_key]
            if missing:
                raise InstrumentError(f"Score {raw['key']!r} uses unknown items {missing}.")
            first = by_key[sources[0]]
            lows, highs = zip(*(item_range(by_key[s]) for s in sources), strict=True)
            conversion = raw.get("conversion") or (scoring or {}).get("raw_to_metric")
            method = raw.get("method", "item")
            lo, hi = (lows[0], highs[0]) if method == "item" else (sum(lows), sum(highs))
            table = {int(k): float(v) for k, v in conversion.items()} if conversion else None
            if method == "sum_then_table":
                if table is None or any(t not in table for t in range(lo, hi + 1)):
                    raise InstrumentError(f"Score {raw['key']!r} needs a full conversion table.")
                lo, hi = table[lo], table[hi]
            band_name = first.get("bands") if method == "item" else raw.get("bands")
            scores.append(
                Score(
                    key=raw["key"],
                    label=raw.get("label") or first.get("label") or first["text"],
                    sources=sources,
                    method=method,
                    higher_is_better=bool(
                        raw.get("higher_is_better", first.get("higher_is_better", True))
                    ),
                    ordinal=bool(raw.get("ordinal", True)),
                    meaningful_change=float(
                        raw.get("meaningful_change", (scoring or {}).get("meaningful_change", 1))
                    ),
                    minimum=float(lo),
                    maximum=float(hi),
                    conversion=table,
                    bands=tuple(bands_table.get(band_name, ())) if band_name else (),
                )
            )
        return Instrument(
            id=str(data["id"]),
            title=str(data["title"]),
            licence=str(data.get("licence", "")),
            attribution=str(data.get("attribution", "")),
            validated=bool(data.get("validated", False)),
            items=items,
            scores=tuple(scores),
            intro=str(data.get("intro", "")),
            optional=bool(data.get("optional", False)),
            benchmark=data.get("benchmark"),
            notes=tuple(n for n in (data.get("meaningful_change_note"),) if n),
        )
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, InstrumentError):
            raise
        raise InstrumentError(f"Not a usable instrument file: {err!r}") from err


def _item_scores(items: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [{"key": i["key"], "from": [i["key"]], "method": "item"} for i in items]


@dataclass(frozen=True)
class Catalogue:
    """The instruments this service knows, by id, those a check-in asks by default, and the sets
    a scheme may choose (services.outcomes.domain.scheme_settings)."""

    instruments: dict[str, Instrument]
    defaults: tuple[str, ...]
    sets: dict[str, InstrumentSet] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "defaults", tuple(i for i in self.defaults if i in self.instruments)
        )
        unknown = {s.id: i for s in self.sets.values() for i in s.instruments}
        missing = {k: v for k, v in unknown.items() if v not in self.instruments}
        if missing:
            raise InstrumentError(f"Instrument sets name unknown instruments: {missing}.")
        if DEFAULT_SET not in self.sets:
            default = InstrumentSet(
                DEFAULT_SET, "Default", SELF, self.defaults, "How are things?", ""
            )
            object.__setattr__(self, "sets", {**self.sets, DEFAULT_SET: default})

    def instrument_set(self, set_id: str | None) -> InstrumentSet:
        """A set by id; the default for a check-in made before sets existed (or one retired)."""
        return self.sets.get(set_id or DEFAULT_SET) or self.sets[DEFAULT_SET]


def with_scoring_table(data: dict[str, Any], scoring: dict[str, Any] | None) -> Instrument:
    """An instrument from its file; a licensed one (SWEMWBS) scored by its shipped table."""
    if scoring and "scores" not in data:
        keys = [i["key"] for i in data.get("items", [])]
        data = {
            **data,
            "scores": [
                {
                    "key": "metric",
                    "label": f"{data.get('title', data.get('id'))} (metric score)",
                    "from": keys,
                    "method": "sum_then_table",
                    "ordinal": False,
                    "higher_is_better": True,
                }
            ],
        }
    return parse_instrument(data, scoring)


def questions(
    catalogue: Catalogue,
    instrument_ids: list[str],
    follow_up: bool,
    wording: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """What a check-in asks, section by section, in plain words (no personal data); `wording`
    rephrases the follow-up questions (a parent's proxy set asks about "your child")."""
    words = wording or {}
    cat = catalogue.instruments
    sections: list[dict[str, Any]] = []
    for iid in instrument_ids:
        inst = cat[iid]
        sections.append(
            {
                "instrument": inst.id,
                "title": inst.title,
                "intro": inst.intro,
                "attribution": inst.attribution,
                "items": [_question(f"{inst.id}.{i['key']}", i, True) for i in inst.items],
            }
        )
    if follow_up:
        sections.append(
            {
                "instrument": "activity",
                "title": "About the activity",
                "intro": "",
                "attribution": "",
                "items": [
                    _question(q["key"], {**q, "text": words.get(q["key"], q["text"])}, required)
                    for q, required in (
                        (HELPED, True),
                        (ACTIVITY_RATING, True),
                        (DIFFERENCE, False),
                    )
                ],
            }
        )
    return sections


def _question(key: str, item: dict[str, Any], required: bool) -> dict[str, Any]:
    scale = dict(item["scale"])
    return {"key": key, "text": item["text"], "required": required, **scale}


def check_answers(
    catalogue: Catalogue, instrument_ids: list[str], follow_up: bool, answers: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Clean answers and every problem, keyed by question key (nothing is stored if any)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    expected: dict[str, dict[str, Any]] = {}
    for section in questions(catalogue, instrument_ids, follow_up):
        for q in section["items"]:
            expected[q["key"]] = q
    for key in answers:
        if key not in expected:
            errors[key] = ["This check-in does not ask this question."]
    for key, q in expected.items():
        value = answers.get(key)
        if value is None or value == "":
            if q["required"]:
                errors[key] = ["Please answer this question."]
            continue
        problem = _check_value(q, value)
        if problem:
            errors[key] = [problem]
        else:
            clean[key] = value.strip() if isinstance(value, str) else int(value)
    return clean, errors


def _check_value(q: dict[str, Any], value: Any) -> str | None:
    if q["type"] == "text":
        if not isinstance(value, str):
            return "Answer in words."
        if len(value) > q["max_length"]:
            return f"Please keep this to {q['max_length']} characters or fewer."
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return "Answer with a whole number."
    lo, hi = item_range({"scale": q})
    if q["type"] == "choice":
        allowed = [o["value"] for o in q["options"]]
        if value not in allowed:
            return f"Choose one of {', '.join(map(str, allowed))}."
    elif not lo <= value <= hi:
        return f"Answer with a number from {lo} to {hi}."
    return None


def score_answers(
    catalogue: Catalogue, instrument_ids: list[str], clean: dict[str, Any]
) -> dict[str, float]:
    """Every score the answered instruments yield, keyed `instrument.score`."""
    cat = catalogue.instruments
    scores: dict[str, float] = {}
    for iid in instrument_ids:
        inst = cat[iid]
        prefix = f"{iid}."
        mine = {k[len(prefix) :]: v for k, v in clean.items() if k.startswith(prefix)}
        if all(i["key"] in mine for i in inst.items):
            scores.update(inst.score(mine))
    return scores


def all_scores(catalogue: Catalogue) -> dict[str, tuple[Instrument, Score]]:
    """Every score of every known instrument, keyed `instrument.score`."""
    return {f"{i.id}.{s.key}": (i, s) for i in catalogue.instruments.values() for s in i.scores}


def describe(inst: Instrument) -> dict[str, Any]:
    return {
        "id": inst.id,
        "title": inst.title,
        "licence": inst.licence,
        "attribution": inst.attribution,
        "validated": inst.validated,
        "optional": inst.optional,
        "items": [_question(f"{inst.id}.{i['key']}", i, True) for i in inst.items],
        "scores": [
            {
                "key": f"{inst.id}.{s.key}",
                "label": s.label,
                "higher_is_better": s.higher_is_better,
                "min": s.minimum,
                "max": s.maximum,
                "meaningful_change": s.meaningful_change,
                "bands": list(s.bands),
            }
            for s in inst.scores
        ],
    }
