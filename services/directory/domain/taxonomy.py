"""The directory's taxonomy: what young people actually ask for, with parents and children.

Data, not code: the migration loads it and the seed and import refer to terms by slug. Terms marked
`excluded` can never be funded by a personal health budget; `needs_qualification` terms need a
specialist qualification in the provider's due diligence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.demo import demo_uuid

TAXONOMY_ID = demo_uuid("taxonomy", "phb-activities")
TAXONOMY_NAME = "PHB activities"
TAXONOMY_DESCRIPTION = "What young people spend a personal health budget on, and what they can't."


@dataclass(frozen=True)
class Term:
    slug: str
    name: str
    parent: str | None = None
    excluded: bool = False
    needs_qualification: bool = False
    description: str = ""

    @property
    def id(self) -> str:
        return term_id(self.slug)


def term_id(slug: str) -> str:
    return demo_uuid("taxonomy_term", slug)


TERMS: tuple[Term, ...] = (
    Term("sport-fitness", "Sport and fitness", description="Getting active, alone or in a team."),
    Term("gym", "Gym", "sport-fitness", description="Gym membership and fitness classes."),
    Term("swimming", "Swimming", "sport-fitness", description="Pools, lessons and open water."),
    Term("football", "Football", "sport-fitness", description="Clubs, leagues and kickabouts."),
    Term("cricket", "Cricket", "sport-fitness", description="Clubs, nets and coaching."),
    Term(
        "boxing-martial-arts",
        "Boxing and martial arts",
        "sport-fitness",
        description="Boxing, kickboxing, judo, karate and more.",
    ),
    Term("climbing", "Climbing", "sport-fitness", description="Bouldering and roped climbing."),
    Term(
        "running", "Running", "sport-fitness", description="Running clubs, parkrun and couch to 5k."
    ),
    Term(
        "skateboarding",
        "Skateboarding and BMX",
        "sport-fitness",
        description="Skate parks, lessons and BMX.",
    ),
    Term(
        "racket-sports",
        "Tennis and badminton",
        "sport-fitness",
        description="Tennis, badminton, squash and table tennis.",
    ),
    Term("dance", "Dance", description="Dance classes of every kind."),
    Term("salsa", "Salsa", "dance", description="Salsa and Latin dance."),
    Term("street-dance", "Street dance", "dance", description="Hip hop, breaking and street."),
    Term("other-dance", "Other dance", "dance", description="Ballet, contemporary, ballroom."),
    Term("outdoors-nature", "Outdoors and nature", description="Time outside."),
    Term("walking", "Walking and rambling", "outdoors-nature", description="Guided walks."),
    Term(
        "conservation",
        "Conservation and gardening",
        "outdoors-nature",
        description="Volunteering outdoors, growing food.",
    ),
    Term("watersports", "Watersports", "outdoors-nature", description="Sailing, paddling, surf."),
    Term("fishing", "Fishing", "outdoors-nature", description="Sea and coarse fishing, rods lent."),
    Term(
        "gardening",
        "Gardening and growing",
        "outdoors-nature",
        description="Allotments, community gardens and growing food.",
    ),
    Term("animals", "Animals", description="Time with animals."),
    Term("horse-riding", "Horse riding", "animals", description="Riding lessons and hacks."),
    Term(
        "equine-therapy",
        "Equine therapy",
        "animals",
        needs_qualification=True,
        description="Equine-assisted therapy and learning with qualified practitioners.",
    ),
    Term("arts-making", "Arts and making", description="Making things."),
    Term("woodwork", "Woodwork", "arts-making", description="Carpentry and woodwork."),
    Term("art", "Art", "arts-making", description="Drawing, painting and crafts."),
    Term("photography", "Photography", "arts-making", description="Photography and film."),
    Term(
        "drama", "Drama and theatre", "arts-making", description="Acting, theatre and film-making."
    ),
    Term("music", "Music", description="Playing, singing and making music."),
    Term("music-lessons", "Music lessons", "music", description="Instrument and voice lessons."),
    Term(
        "bands-studios",
        "Bands and studios",
        "music",
        description="Rehearsal rooms, recording, bands.",
    ),
    Term("cycling", "Cycling", description="Bikes and riding them."),
    Term("bikes", "Bikes", "cycling", description="Bikes to buy or borrow, rides."),
    Term("bike-repair", "Bike repair", "cycling", description="Repairs and learning to fix."),
    Term("equipment-kit", "Equipment and kit", description="The kit an activity needs."),
    Term("sports-kit", "Sports kit", "equipment-kit", description="Boots, gloves, clothing."),
    Term(
        "art-supplies",
        "Art and music supplies",
        "equipment-kit",
        description="Materials and instruments.",
    ),
    Term("skills-learning", "Skills and learning", description="Learning something new."),
    Term("cooking", "Cooking", "skills-learning", description="Cooking on a budget."),
    Term("courses", "Courses", "skills-learning", description="Short courses and tuition."),
    Term("driving", "Driving lessons", "skills-learning", description="Learning to drive."),
    Term("social-peer-support", "Social and peer support", description="Meeting people."),
    Term(
        "peer-support",
        "Peer support",
        "social-peer-support",
        description="Groups run by and for young people.",
    ),
    Term("youth-clubs", "Youth clubs", "social-peer-support", description="Clubs and drop-ins."),
    Term(
        "gaming",
        "Gaming clubs",
        "social-peer-support",
        description="Video game, e-sports and board game clubs.",
    ),
    Term("wellbeing", "Wellbeing", description="Feeling calmer, sleeping better, coping."),
    Term(
        "mindfulness-yoga",
        "Mindfulness and yoga",
        "wellbeing",
        description="Yoga, meditation, mindfulness and relaxation.",
    ),
    # never fundable by a personal health budget
    Term("alcohol", "Alcohol", excluded=True, description="Never funded."),
    Term("tobacco", "Tobacco and vaping", excluded=True, description="Never funded."),
    Term("gambling", "Gambling", excluded=True, description="Never funded."),
    Term("debt-repayment", "Debt repayment", excluded=True, description="Never funded."),
    Term(
        "primary-care",
        "Primary care",
        excluded=True,
        description="NHS primary care: never funded from a PHB.",
    ),
    Term(
        "emergency-care",
        "Emergency care",
        excluded=True,
        description="NHS emergency care: never funded from a PHB.",
    ),
)

BY_SLUG: dict[str, Term] = {t.slug: t for t in TERMS}
BY_ID: dict[str, Term] = {t.id: t for t in TERMS}
EXCLUDED_SLUGS: frozenset[str] = frozenset(t.slug for t in TERMS if t.excluded)


def ancestors(slug: str, terms: dict[str, Term] | None = None) -> list[str]:
    """The slug's parents, nearest first (not the slug itself)."""
    terms = terms or BY_SLUG
    found: list[str] = []
    parent = terms[slug].parent if slug in terms else None
    while parent is not None and parent not in found:
        found.append(parent)
        parent = terms[parent].parent if parent in terms else None
    return found


def with_ancestors(slugs: Iterable[str], terms: dict[str, Term] | None = None) -> list[str]:
    """The slugs and all their ancestors, each once, in first-seen order."""
    out: list[str] = []
    for slug in slugs:
        for s in (slug, *ancestors(slug, terms)):
            if s not in out:
                out.append(s)
    return out


def descendants(slug: str, terms: dict[str, Term] | None = None) -> list[str]:
    """The slug and every term below it: filtering by a parent includes its children."""
    terms = terms or BY_SLUG
    out = [slug]
    for s in out:
        out.extend(t.slug for t in terms.values() if t.parent == s and t.slug not in out)
    return out
