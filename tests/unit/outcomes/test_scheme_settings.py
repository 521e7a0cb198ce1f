"""Outcomes per scheme, as plain rules: sets, proxy ages and age bands."""

from datetime import date

import pytest

from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.domain import instruments
from services.outcomes.domain import scheme_settings as rules
from services.outcomes.domain.instruments import Catalogue, InstrumentError
from services.outcomes.domain.scheme_settings import OutcomeSettings, SchemeFacts

CATALOGUE = load_catalogue()
CHILDREN = SchemeFacts("s-1", "Children's", "children_young_people", 0, 25)
CARE_LEAVERS = SchemeFacts("s-2", "Care leavers", "care_leavers", 16, 25)
AFTERCARE = SchemeFacts("s-3", "Aftercare", "mental_health_s117", None, None)
ON = date(2026, 11, 24)


def test_the_shipped_sets_are_the_wellbeing_questions_a_short_childrens_set_and_a_proxy_set():
    sets = CATALOGUE.sets
    assert sets["default"].instruments == CATALOGUE.defaults
    assert (sets["children"].respondent, sets["children"].instruments) == (
        "self",
        ("child_wellbeing",),
    )
    assert (sets["parent-proxy"].respondent, sets["parent-proxy"].instruments) == (
        "proxy",
        ("parent_view",),
    )


def test_a_set_naming_an_unknown_instrument_is_refused():
    bad = rules.InstrumentSet("x", "X", "self", ("nonesuch",), "T", "")
    with pytest.raises(InstrumentError):
        Catalogue(instruments=CATALOGUE.instruments, defaults=(), sets={"x": bad})


def test_a_set_with_an_unknown_respondent_is_refused():
    with pytest.raises(ValueError):
        rules.parse_set({"id": "x", "title": "X", "respondent": "friend", "instruments": []})


def test_the_proxy_set_words_the_follow_up_questions_for_a_parent():
    proxy = CATALOGUE.sets["parent-proxy"]
    sections = instruments.questions(CATALOGUE, ["parent_view"], True, proxy.follow_up_wording)
    texts = [q["text"] for q in sections[-1]["items"]]
    assert texts[0] == "Has it helped your child?"
    assert all("child" in q["text"] for q in sections[0]["items"])


@pytest.mark.parametrize(
    ("birth_year", "expected"),
    [(2020, ("parent-proxy", "proxy")), (2018, ("children", "self")), (2015, ("children", "self"))],
)
def test_a_child_under_the_proxy_age_gets_the_parents_set(birth_year, expected):
    settings = rules.defaults_for(CHILDREN)
    assert settings.proxy_below_age == 8
    assert rules.set_for(settings, birth_year, ON) == expected


def test_without_a_proxy_set_everyone_answers_for_themselves():
    assert rules.set_for(rules.defaults_for(CARE_LEAVERS), 2019, ON) == ("default", "self")
    assert rules.set_for(rules.defaults_for(None), None, ON) == ("default", "self")


@pytest.mark.parametrize(
    ("bands", "birth_year", "band"),
    [
        (("0-4", "5-10", "11-15", "16-17", "18-25"), 2017, "5-10"),
        (("16-17", "18-20", "21-25"), 2001, "21-25"),
        # a care leaver aged 25 whose 26th birthday falls later this year stays in 21-25
        (("16-17", "18-20", "21-25"), 2000, "21-25"),
        (("16-17", "18-20", "21-25"), 2017, rules.OTHER_AGES),
        (("0-17", "18-25", "26-64", "65+"), 1950, "65+"),
        (("0-4",), None, "unknown"),
    ],
)
def test_a_person_falls_in_their_schemes_own_band(bands, birth_year, band):
    assert rules.band_of(bands, birth_year, ON) == band


def test_a_nine_year_old_on_the_childrens_scheme_is_never_in_21_25():
    bands = rules.defaults_for(CHILDREN).age_bands
    assert "21-25" not in bands
    assert rules.band_of(bands, 2017, ON) == "5-10"


@pytest.mark.parametrize("facts", [CHILDREN, CARE_LEAVERS, AFTERCARE, None])
def test_every_kinds_defaults_fit_its_scheme(facts):
    assert rules.check(rules.defaults_for(facts).as_dict(), CATALOGUE.sets, facts) == {}


@pytest.mark.parametrize(
    ("bands", "facts", "problem"),
    [
        (["0-4", "6-10", "11-25"], CHILDREN, "must start the year after"),
        (["0-10", "10-25"], CHILDREN, "must start the year after"),
        (["1-10", "11-25"], CHILDREN, "must start at 0"),
        (["0-10", "11-30"], CHILDREN, "must end at 25"),
        (["0-10", "11+"], CHILDREN, "must end at 25"),
        (["16-40", "41-64"], AFTERCARE, "open band like 41+"),
        (["ten"], CHILDREN, "not an age band"),
        (["10-5"], None, "not an age band"),
        ([], CHILDREN, "at least one"),
        ([f"{n}-{n}" for n in range(13)], None, "at most 12"),
    ],
)
def test_bands_must_be_contiguous_and_cover_the_schemes_ages(bands, facts, problem):
    values = {"instrument_set": "default", "age_bands": bands}
    errors = rules.check(values, CATALOGUE.sets, facts)
    assert set(errors) == {"age_bands"}
    assert any(problem in p for p in errors["age_bands"]), errors


def test_every_bad_setting_is_named_at_once():
    values = {
        "instrument_set": "parent-proxy",  # a proxy set cannot be the child's own
        "proxy_set": "children",  # nor a self set the proxy
        "proxy_below_age": 17,
        "age_bands": ["0-30"],
    }
    errors = rules.check(values, CATALOGUE.sets, CHILDREN)
    assert set(errors) == {"instrument_set", "proxy_set", "proxy_below_age", "age_bands"}
    assert "under 16" in errors["proxy_below_age"][0]


@pytest.mark.parametrize(
    ("proxy_set", "below", "field"),
    [("parent-proxy", None, "proxy_below_age"), (None, 8, "proxy_set")],
)
def test_a_proxy_set_and_its_age_come_together(proxy_set, below, field):
    values = OutcomeSettings("children", ("0-25",), proxy_set, below).as_dict()
    assert set(rules.check(values, CATALOGUE.sets, CHILDREN)) == {field}


def test_a_proxy_age_at_or_below_the_schemes_youngest_is_refused():
    values = OutcomeSettings("default", ("16-25",), "parent-proxy", 16).as_dict()
    errors = rules.check(values, CATALOGUE.sets, CARE_LEAVERS)
    assert "it starts at 16" in errors["proxy_below_age"][0]


def test_a_case_study_gives_the_childs_age_in_their_schemes_own_band():
    from services.outcomes.service_layer import case_studies
    from services.outcomes.service_layer.commands import DraftCaseStudy
    from shared.identity import Identity
    from tests.unit.outcomes.fakes import FakeUnitOfWork, add_person

    uow = FakeUnitOfWork()
    uow.tx.people.bands["scheme-1"] = ("0-10", "11-15", "16-25")
    add_person(uow, birth_year=date.today().year - 9)
    cmd = DraftCaseStudy(
        actor=Identity(sub="adv-1", role="advisor"),
        person_id="person-1",
        title="Swimming",
        story="Learnt to swim with friends.",
    )
    assert case_studies.draft(cmd, uow)["age_band"] == "0-10"
