"""Reading instruments from disk: the shipped ones beside this package, and any licensed ones a
council adds in a folder of its own (the settings' `instrument_dir`)."""

from __future__ import annotations

import json
from pathlib import Path

from services.outcomes.domain.instruments import Catalogue, Instrument, with_scoring_table
from services.outcomes.domain.scheme_settings import InstrumentSet, parse_set

SHIPPED = Path(__file__).resolve().parent.parent / "instruments"
CHECKIN_SPEC = "checkin.json"
SETS = "sets"  # instrument sets a scheme may choose, one file each


def load_file(path: Path, scoring_dir: Path = SHIPPED) -> Instrument:
    """A council-supplied instrument file; licensed ones (SWEMWBS) take the shipped scoring table."""
    data = json.loads(path.read_text())
    scoring_path = scoring_dir / f"{data.get('id')}.scoring.json"
    scoring = json.loads(scoring_path.read_text()) if scoring_path.exists() else None
    return with_scoring_table(data, scoring)


def load_catalogue(extra_dir: Path | None = None, shipped: Path = SHIPPED) -> Catalogue:
    """The shipped instruments and sets, plus those in `extra_dir` (its `sets/` folder too); the
    default check-in from the spec."""
    found: dict[str, Instrument] = {}
    for folder in [shipped] + ([extra_dir] if extra_dir else []):
        for path in sorted(folder.glob("*.json")):
            if path.name.endswith(".scoring.json") or path.name == CHECKIN_SPEC:
                continue
            instrument = load_file(path, shipped)
            found[instrument.id] = instrument
    spec = json.loads((shipped / CHECKIN_SPEC).read_text())
    sets: dict[str, InstrumentSet] = {}
    for folder in [shipped] + ([extra_dir] if extra_dir else []):
        for path in sorted((folder / SETS).glob("*.json")):
            found_set = parse_set(json.loads(path.read_text()))
            sets[found_set.id] = found_set
    return Catalogue(instruments=found, defaults=tuple(spec["instruments"]), sets=sets)
