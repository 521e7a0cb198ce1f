"""Instruments as data: loading, answer checks and scoring."""

import json

import pytest

from services.outcomes.adapters.instrument_files import load_catalogue, load_file
from services.outcomes.domain import instruments
from services.outcomes.domain.instruments import InstrumentError

CATALOGUE = load_catalogue()


def test_the_default_check_in_asks_ons4_loneliness_and_sleep():
    assert CATALOGUE.defaults == ("ons4", "loneliness", "sleep")
    keys = [
        q["key"]
        for s in instruments.questions(CATALOGUE, ["ons4", "loneliness", "sleep"], False)
        for q in s["items"]
    ]
    assert keys == [
        "ons4.life_satisfaction",
        "ons4.worthwhile",
        "ons4.happy",
        "ons4.anxious",
        "loneliness.how_often",
        "sleep.quality",
    ]


def test_follow_ups_also_ask_for_a_rating_and_the_difference_it_made():
    sections = instruments.questions(CATALOGUE, ["ons4"], True)
    assert [q["key"] for q in sections[-1]["items"]] == ["helped", "activity_rating", "difference"]


def test_ons4_keeps_its_attribution_and_bands():
    ons4 = CATALOGUE.instruments["ons4"]
    assert ons4.attribution == (
        "Source: Office for National Statistics licensed under the Open Government Licence"
    )
    life = next(s for s in ons4.scores if s.key == "life_satisfaction")
    anxious = next(s for s in ons4.scores if s.key == "anxious")
    assert [instruments.band_of(life.bands, v) for v in (0, 4, 5, 6, 7, 8, 9, 10)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
        "very high",
        "very high",
    ]
    assert [instruments.band_of(anxious.bands, v) for v in (1, 2, 3, 5, 6, 10)] == [
        "very low",
        "low",
        "low",
        "medium",
        "high",
        "high",
    ]
    assert anxious.higher_is_better is False


def test_sleep_is_marked_not_validated_and_swemwbs_items_are_not_shipped():
    catalogue = CATALOGUE.instruments
    assert catalogue["sleep"].validated is False
    assert "swemwbs" not in catalogue


def test_ucla3_totals_three_to_nine():
    ucla = CATALOGUE.instruments["ucla3"]
    total = ucla.scores[0]
    assert (total.minimum, total.maximum) == (3, 9)
    assert ucla.score({"companionship": 3, "left_out": 2, "isolated": 1}) == {"ucla3.total": 6.0}


GOOD = {
    "ons4.life_satisfaction": 7,
    "ons4.worthwhile": 6,
    "ons4.happy": 8,
    "ons4.anxious": 2,
    "loneliness.how_often": 4,
    "sleep.quality": 5,
}


def test_good_answers_are_scored():
    clean, errors = instruments.check_answers(
        CATALOGUE, ["ons4", "loneliness", "sleep"], False, GOOD
    )
    assert errors == {}
    scores = instruments.score_answers(CATALOGUE, ["ons4", "loneliness", "sleep"], clean)
    assert scores["ons4.anxious"] == 2.0 and scores["loneliness.how_often"] == 4.0


def test_every_bad_answer_is_named():
    answers = {
        **GOOD,
        "ons4.life_satisfaction": 11,
        "ons4.happy": "8",
        "loneliness.how_often": 0,
        "surprise": 1,
        "activity_rating": 6,
        "difference": "x" * 1001,
    }
    del answers["ons4.worthwhile"]
    _, errors = instruments.check_answers(CATALOGUE, ["ons4", "loneliness", "sleep"], True, answers)
    assert set(errors) == {
        "ons4.life_satisfaction",
        "ons4.worthwhile",
        "ons4.happy",
        "loneliness.how_often",
        "surprise",
        "helped",
        "activity_rating",
        "difference",
    }


def test_booleans_are_not_numbers():
    _, errors = instruments.check_answers(CATALOGUE, ["sleep"], False, {"sleep.quality": True})
    assert "sleep.quality" in errors


def _swemwbs_file(tmp_path, items=7):
    data = {
        "id": "swemwbs",
        "title": "SWEMWBS",
        "licence": "Licensed to the council",
        "attribution": "(c) the licence holder",
        "validated": True,
        "items": [
            {
                "key": f"item{i}",
                "text": f"Licensed item {i}, supplied by the council",
                "scale": {
                    "type": "choice",
                    "options": [{"value": v, "label": str(v)} for v in range(1, 6)],
                },
            }
            for i in range(1, items + 1)
        ],
    }
    path = tmp_path / "swemwbs.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("raw_items", "metric"),
    [((1,) * 7, 7.00), ((3,) * 7, 19.25), ((4, 4, 4, 4, 4, 4, 5), 26.02), ((5,) * 7, 35.00)],
)
def test_a_council_supplied_swemwbs_file_converts_raw_to_metric(tmp_path, raw_items, metric):
    swemwbs = load_file(_swemwbs_file(tmp_path))
    answers = {f"item{i}": v for i, v in enumerate(raw_items, start=1)}
    assert swemwbs.score(answers) == {"swemwbs.metric": metric}
    assert swemwbs.scores[0].meaningful_change == 3
    assert swemwbs.scores[0].ordinal is False


def test_a_swemwbs_file_with_the_wrong_items_is_refused(tmp_path):
    with pytest.raises(InstrumentError):
        load_file(_swemwbs_file(tmp_path, items=6))
