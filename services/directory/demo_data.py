"""The demo catalogue, laid out without a database: fictional providers and listings in East Sussex.

Pure and deterministic: `provider(k)` and `listing(n)` give the same answer everywhere, so the budget
and outcomes seeds can refer to listing n's name, category and price (docs/contracts.md, "Demo data").
Dates are laid out relative to `today` (the seed passes the later of the real date and
`shared.demo.DEMO_TODAY`): most providers are verified for a long while, a few expire soon or lapsed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from shared.demo import DEMO_PROVIDER_ID, DEMO_TODAY, demo_uuid

BASE_PROVIDERS = 150
EXTRA_LISTINGS = 40  # second listings of some providers
# Listings 0-189: the catalogue the budget seed picks from (`LISTINGS` stays its size, so the
# other seeds lay out the same demo). Coverage listings follow, numbered from 190, each from a
# provider of its own (150 up): every taxonomy term a young person asks for in three towns or more.
LISTINGS = BASE_PROVIDERS + EXTRA_LISTINGS


@dataclass(frozen=True)
class Town:
    name: str
    lat: float
    lng: float
    districts: tuple[str, ...]
    streets: tuple[str, ...]


TOWNS: tuple[Town, ...] = (
    Town("Hastings", 50.8543, 0.5735, ("TN34", "TN35"), ("Harbour Road", "Castle Street")),
    Town("St Leonards-on-Sea", 50.8560, 0.5460, ("TN37", "TN38"), ("Marina", "Norman Road")),
    Town("Eastbourne", 50.7684, 0.2903, ("BN21", "BN22", "BN23"), ("Terminus Road", "Seaside")),
    Town("Bexhill-on-Sea", 50.8424, 0.4676, ("TN39", "TN40"), ("Western Road", "De La Warr")),
    Town("Lewes", 50.8739, 0.0088, ("BN7",), ("High Street", "Cliffe High Street")),
    Town("Seaford", 50.7716, 0.1024, ("BN25",), ("Broad Street", "Sutton Road")),
    Town("Newhaven", 50.7930, 0.0470, ("BN9",), ("Bridge Street", "South Way")),
    Town("Crowborough", 51.0600, 0.1620, ("TN6",), ("Croft Road", "Beacon Road")),
    Town("Uckfield", 50.9695, 0.0963, ("TN22",), ("High Street", "Framfield Road")),
    Town("Hailsham", 50.8625, 0.2580, ("BN27",), ("Market Street", "George Street")),
    Town("Rye", 50.9510, 0.7340, ("TN31",), ("Strand Quay", "Cinque Ports Street")),
    Town("Battle", 50.9170, 0.4840, ("TN33",), ("Abbey Green", "Mount Street")),
    Town("Heathfield", 50.9670, 0.2530, ("TN21",), ("Station Road", "High Street")),
    Town("Polegate", 50.8210, 0.2450, ("BN26",), ("High Street", "Station Road")),
    Town("Peacehaven", 50.7930, -0.0060, ("BN10",), ("South Coast Road", "Meridian Way")),
)
TOWN_BY_NAME = {t.name: t for t in TOWNS}
# salsa in and around Eastbourne, at different distances from the town centre
SALSA_TOWNS = ("Eastbourne", "Polegate", "Eastbourne", "Hailsham", "Seaford", "Bexhill-on-Sea")


@dataclass(frozen=True)
class Template:
    key: str
    categories: tuple[str, ...]
    provider_names: tuple[str, ...]
    title: str
    description: str
    prices: tuple[tuple[int, str, str], ...]  # (pence, unit, description)
    ages: tuple[int | None, int | None]
    days: tuple[str, ...]
    hours: tuple[str, str]
    welcomes: tuple[str, ...] = ()


T = Template
TEMPLATES: tuple[Template, ...] = (
    T(
        "gym",
        ("gym",),
        ("Harbour Gym", "Iron Pier Fitness", "Shingle Strength Studio", "Downs Fitness Hub"),
        "Gym membership, {town}",
        "Open gym with free weights, cardio and a friendly induction. Staff will write you a plan.",
        ((2500, "per_month", "Monthly membership"), (500, "per_session", "Day pass")),
        (16, None),
        ("MO,TU,WE,TH,FR", "SA,SU"),
        ("06:30", "21:00"),
        ("first_session_free", "bring_a_friend"),
    ),
    T(
        "salsa",
        ("salsa",),
        ("Salsa Sol Dance School", "Casa Rueda Dance", "Latin Quarter Dance Club"),
        "Salsa for beginners, {town}",
        "Cuban and LA salsa classes for total beginners; no partner needed, we rotate partners.",
        ((700, "per_session", "Drop-in class"), (2400, "per_month", "Four classes a month")),
        (16, None),
        ("TU", "TH"),
        ("19:00", "20:30"),
        ("first_session_free", "bring_a_friend"),
    ),
    T(
        "riding",
        ("horse-riding",),
        ("Downland Riding Stables", "Marsh Farm Riding School", "Weald Pony Centre"),
        "Riding lessons, {town}",
        "Small-group riding lessons for novices and returners, hats and boots lent.",
        ((3500, "per_session", "One-hour group lesson"), (12000, "one_off", "Four-lesson course")),
        (8, None),
        ("SA,SU", "WE"),
        ("09:00", "16:00"),
        ("care_experienced",),
    ),
    T(
        "equine",
        ("equine-therapy",),
        ("Haywain Equine Therapy", "Open Fields Equine Learning", "Hoofbeat Therapy Barn"),
        "Equine-assisted therapy, {town}",
        "Equine therapy sessions with a qualified practitioner: groundwork with horses to build "
        "confidence and calm. No riding experience needed.",
        ((6000, "per_session", "One-to-one session"), (48000, "one_off", "Eight-session block")),
        (11, 25),
        ("MO,WE,FR",),
        ("10:00", "15:00"),
        ("care_experienced",),
    ),
    T(
        "bike-repair",
        ("bike-repair",),
        ("Spoke and Chain Bike Kitchen", "Freewheel Community Cycles", "Puncture Club"),
        "Bike repair workshop, {town}",
        "Bring your bike and learn to fix it with our mechanics: tools, parts at cost, and tea.",
        ((0, "per_session", "Free repair session"),),
        (12, None),
        ("SA", "WE"),
        ("10:00", "14:00"),
        ("care_experienced", "bring_a_friend"),
    ),
    T(
        "bike-shop",
        ("bikes", "bike-repair"),
        ("Coastline Cycles", "Two Wheels Good Bikes"),
        "Bike service and refurbished bikes, {town}",
        "Refurbished bikes with a lock and lights, and a full service for the one you have.",
        ((4500, "one_off", "Full bike service"), (15000, "one_off", "Refurbished bike")),
        (None, None),
        ("MO,TU,WE,TH,FR,SA",),
        ("09:00", "17:30"),
    ),
    T(
        "cricket",
        ("cricket",),
        ("Village Green Cricket Club", "Seagulls Cricket Club"),
        "Cricket coaching and club nights, {town}",
        "Junior and adult cricket: nets on Friday, matches at weekends, all kit provided.",
        ((6000, "per_year", "Annual subs"), (400, "per_session", "Nets session")),
        (10, None),
        ("FR", "SA"),
        ("17:30", "20:00"),
        ("first_session_free",),
    ),
    T(
        "climbing",
        ("climbing",),
        ("Chalk Face Climbing Wall", "Cliffhanger Bouldering"),
        "Indoor climbing and bouldering, {town}",
        "Bouldering and roped climbing with an induction; shoes to hire, courses for beginners.",
        ((1000, "per_session", "Day entry"), (6000, "one_off", "Beginners course")),
        (8, None),
        ("MO,TU,WE,TH,FR", "SA,SU"),
        ("10:00", "22:00"),
        ("bring_a_friend",),
    ),
    T(
        "boxing",
        ("boxing-martial-arts",),
        ("Pier Street Boxing Club", "Red Corner Boxing Gym", "Kaizen Martial Arts"),
        "Boxing fitness, {town}",
        "Non-contact boxing fitness and technique; sparring only when you want it.",
        ((500, "per_session", "Class"), (3000, "per_month", "Unlimited classes")),
        (12, None),
        ("MO,WE", "TU,TH"),
        ("18:00", "19:30"),
        ("first_session_free", "care_experienced"),
    ),
    T(
        "swimming",
        ("swimming",),
        ("Seafront Swim School", "Blue Lagoon Swim Club"),
        "Swimming lessons, {town}",
        "Swimming lessons for teenagers and adults who never learned, in small, patient groups.",
        ((900, "per_session", "Lesson"), (3200, "per_month", "Monthly lessons")),
        (11, None),
        ("TU,TH", "SA"),
        ("16:00", "19:00"),
    ),
    T(
        "football",
        ("football",),
        ("Sunday Kickers FC", "Downs Athletic Youth FC"),
        "Football training, {town}",
        "Friendly training and five-a-side; all abilities, boots can be lent.",
        ((300, "per_session", "Session"), (8000, "per_year", "Season subs")),
        (14, 25),
        ("WE", "SU"),
        ("18:00", "19:30"),
        ("bring_a_friend",),
    ),
    T(
        "woodwork",
        ("woodwork",),
        ("Shavings Woodwork Studio", "Oak and Ash Workshop"),
        "Woodwork course, {town}",
        "Learn to make a stool, a box and a chopping board; hand tools first, then machines.",
        ((8000, "one_off", "Six-week course"), (1500, "per_session", "Open workshop")),
        (14, None),
        ("TH", "SA"),
        ("10:00", "13:00"),
    ),
    T(
        "art",
        ("art",),
        ("Seaglass Art Studio", "Open Canvas Collective", "Paint Shed"),
        "Art classes, {town}",
        "Drawing, painting and printmaking classes; materials included.",
        ((1200, "per_session", "Class"), (4000, "per_month", "Monthly classes")),
        (14, None),
        ("MO", "WE", "SA"),
        ("14:00", "16:30"),
        ("care_experienced",),
    ),
    T(
        "photography",
        ("photography",),
        ("Lightbox Photo Club", "Shutter Coast Photography"),
        "Photography for beginners, {town}",
        "Phone and camera photography walks and editing sessions; cameras lent.",
        ((2000, "one_off", "Four-week course"),),
        (14, None),
        ("SU",),
        ("10:00", "12:30"),
    ),
    T(
        "music",
        ("music-lessons",),
        ("Bandstand Music School", "Chord Street Music", "Harbour Sound Studios"),
        "Guitar, drums and singing lessons, {town}",
        "One-to-one and small-group music lessons for complete beginners upward.",
        ((2500, "per_session", "Half-hour lesson"), (9000, "per_month", "Weekly lessons")),
        (8, None),
        ("MO,TU,WE,TH", "SA"),
        ("15:30", "20:00"),
    ),
    T(
        "band",
        ("bands-studios",),
        ("Basement Rehearsal Rooms", "Soundwave Youth Music"),
        "Youth band project, {town}",
        "Form a band, rehearse in a real studio and play a gig at the end of term.",
        ((0, "per_session", "Free weekly session"), (1500, "per_session", "Studio hour")),
        (13, 25),
        ("FR",),
        ("17:00", "20:00"),
        ("care_experienced", "bring_a_friend"),
    ),
    T(
        "peer",
        ("peer-support",),
        ("Care Leavers Together", "Next Step Peer Group", "Open Door Youth Space"),
        "Peer support group, {town}",
        "A relaxed weekly group run by and for young people with care experience; food provided.",
        ((0, "per_session", "Free"),),
        (16, 25),
        ("TH",),
        ("17:30", "19:30"),
        ("care_experienced", "bring_a_friend"),
    ),
    T(
        "walking",
        ("walking",),
        ("South Downs Walking Group", "Coast Path Walkers"),
        "Guided walks, {town}",
        "Gentle guided walks on the Downs and the coast, with a stop for lunch.",
        ((0, "per_session", "Free walk"), (500, "per_session", "Walk with transport")),
        (14, None),
        ("SA", "SU"),
        ("10:00", "14:00"),
        ("bring_a_friend",),
    ),
    T(
        "conservation",
        ("conservation",),
        ("Greenway Conservation Volunteers", "Allotment Growers Collective"),
        "Conservation volunteering, {town}",
        "Outdoor conservation days: hedge laying, path work and growing food together.",
        ((0, "per_session", "Free day"),),
        (16, None),
        ("WE", "SA"),
        ("09:30", "15:00"),
        ("care_experienced",),
    ),
    T(
        "watersports",
        ("watersports",),
        ("Breakwater Watersports", "Paddle Out SUP School"),
        "Paddleboarding and kayaking, {town}",
        "Stand-up paddleboarding and kayak taster sessions with wetsuits included.",
        ((3500, "per_session", "Taster session"), (14000, "one_off", "Five-session course")),
        (12, None),
        ("SA,SU",),
        ("09:00", "17:00"),
    ),
    T(
        "dance",
        ("street-dance",),
        ("Concrete Crew Street Dance", "Groove Factory"),
        "Street dance, {town}",
        "Hip hop and street dance classes for all levels, showcase every term.",
        ((600, "per_session", "Class"), (2000, "per_month", "Monthly pass")),
        (11, 25),
        ("MO", "WE"),
        ("18:00", "19:30"),
        ("first_session_free",),
    ),
    T(
        "kit",
        ("sports-kit",),
        ("Kit Bag Sports", "Second Wind Sportswear"),
        "Sports kit and footwear, {town}",
        "Trainers, boots and sportswear at fair prices; we help you pick what the activity needs.",
        ((3000, "one_off", "Trainers"), (6000, "one_off", "Starter kit")),
        (None, None),
        ("MO,TU,WE,TH,FR,SA",),
        ("09:00", "17:30"),
    ),
    T(
        "cooking",
        ("cooking",),
        ("Good Food on a Budget", "Kitchen Table Cookery"),
        "Cooking on a budget, {town}",
        "Learn ten cheap, quick meals in a friendly kitchen and take the food home.",
        ((0, "per_session", "Free session"), (5000, "one_off", "Six-week course")),
        (16, 25),
        ("TU",),
        ("17:00", "19:00"),
        ("care_experienced",),
    ),
    T(
        "driving",
        ("driving",),
        ("Roundabout School of Motoring", "Clear Road Driving Lessons"),
        "Driving lessons, {town}",
        "Patient driving instructors; block bookings for new drivers.",
        ((3600, "per_session", "One-hour lesson"), (45000, "one_off", "Fourteen-lesson block")),
        (17, None),
        ("MO,TU,WE,TH,FR,SA",),
        ("08:00", "19:00"),
    ),
    T(
        "youth-club",
        ("youth-clubs",),
        ("Harbour Youth Club", "The Hangout Youth Centre"),
        "Youth club drop-in, {town}",
        "Pool table, games, music and a youth worker to talk to; just turn up.",
        ((0, "per_session", "Free"),),
        (11, 19),
        ("MO,WE,FR",),
        ("16:00", "21:00"),
        ("bring_a_friend", "care_experienced"),
    ),
)
EXCLUDED_TEMPLATES: tuple[Template, ...] = (
    T(
        "pub",
        ("alcohol",),
        ("The Jolly Fictional Arms",),
        "Pub quiz night, {town}",
        "Weekly quiz with drinks offers. Over 18s only.",
        ((200, "per_session", "Entry"),),
        (18, None),
        ("TH",),
        ("19:30", "23:00"),
    ),
    T(
        "vape",
        ("tobacco",),
        ("Cloud Nine Vape Shop",),
        "Vape starter kits, {town}",
        "Vapes and liquids. Over 18s only.",
        ((1500, "one_off", "Starter kit"),),
        (18, None),
        ("MO,TU,WE,TH,FR,SA",),
        ("09:00", "18:00"),
    ),
    T(
        "bingo",
        ("gambling",),
        ("Lucky Pier Amusements",),
        "Bingo and arcade, {town}",
        "Bingo sessions and arcade machines. Over 18s only.",
        ((1000, "per_session", "Bingo book"),),
        (18, None),
        ("FR,SA",),
        ("12:00", "22:00"),
    ),
    T(
        "walk-in",
        ("primary-care",),
        ("Seafront Private GP",),
        "Private GP appointment, {town}",
        "Private GP consultations (the NHS provides GP care free).",
        ((8000, "per_session", "Consultation"),),
        (None, None),
        ("MO,TU,WE,TH,FR",),
        ("08:30", "18:00"),
    ),
)
EXCLUDED_PROVIDERS = {13: 0, 57: 1, 98: 2, 141: 3}

# What the rotation above leaves out or leaves in fewer than three towns: (template, towns).
COVERAGE: tuple[tuple[Template, tuple[str, ...]], ...] = (
    (
        T(
            "yoga",
            ("mindfulness-yoga",),
            ("Still Water Yoga", "Breathe Easy Mindfulness"),
            "Yoga and mindfulness for young people, {town}",
            "Gentle yoga, breathing and meditation to feel calmer and sleep better; mats lent.",
            ((0, "per_session", "Free taster"), (600, "per_session", "Class")),
            (14, 25),
            ("TU", "SU"),
            ("18:30", "19:45"),
            ("first_session_free", "care_experienced"),
        ),
        ("Hastings", "Eastbourne", "Lewes", "Bexhill-on-Sea"),
    ),
    (
        T(
            "fishing",
            ("fishing",),
            ("Harbour Arm Angling Club", "Rother Valley Anglers"),
            "Fishing for beginners, {town}",
            "Sea and river fishing sessions with a coach; rods, tackle and bait lent.",
            ((1500, "per_session", "Coached session"), (4000, "per_year", "Junior licence")),
            (12, None),
            ("SA", "SU"),
            ("07:00", "12:00"),
            ("bring_a_friend",),
        ),
        ("Rye", "Newhaven", "Hastings", "Eastbourne"),
    ),
    (
        T(
            "skate",
            ("skateboarding",),
            ("Ramp Riders Skate School", "Concrete Wave Skatepark"),
            "Skateboarding lessons, {town}",
            "Skateboard and BMX coaching at the skatepark; boards, pads and helmets lent.",
            ((800, "per_session", "Lesson"), (2500, "per_month", "Monthly pass")),
            (10, None),
            ("WE", "SA"),
            ("16:00", "19:00"),
            ("first_session_free", "bring_a_friend"),
        ),
        ("Hastings", "Eastbourne", "Seaford", "Uckfield"),
    ),
    (
        T(
            "running",
            ("running",),
            ("Seafront Striders Running Club", "Couch to 5k Crew"),
            "Running club and couch to 5k, {town}",
            "Beginner-friendly runs at a chatty pace; couch to 5k groups start every month.",
            ((0, "per_session", "Free run"), (2000, "per_year", "Club membership")),
            (16, None),
            ("TU,TH", "SA"),
            ("18:30", "19:30"),
            ("bring_a_friend",),
        ),
        ("Eastbourne", "Bexhill-on-Sea", "Crowborough", "Hailsham"),
    ),
    (
        T(
            "gardening",
            ("gardening",),
            ("Seedlings Community Garden", "Plot to Plate Allotments"),
            "Community garden sessions, {town}",
            "Grow vegetables and flowers in a community garden; tools, gloves and a cuppa provided.",
            ((0, "per_session", "Free session"), (1500, "per_year", "Allotment share")),
            (14, None),
            ("WE", "SA"),
            ("10:00", "13:00"),
            ("care_experienced",),
        ),
        ("Lewes", "Battle", "Heathfield", "Peacehaven"),
    ),
    (
        T(
            "gaming",
            ("gaming",),
            ("Level Up Gaming Club", "Dice and Pixels Club"),
            "Gaming club, {town}",
            "Video games, e-sports and board games with other young people; consoles provided.",
            ((0, "per_session", "Free session"), (300, "per_session", "Tournament entry")),
            (13, 25),
            ("FR",),
            ("17:00", "20:00"),
            ("bring_a_friend", "care_experienced"),
        ),
        ("Hastings", "Eastbourne", "Newhaven", "Crowborough"),
    ),
    (
        T(
            "drama",
            ("drama",),
            ("Curtain Up Youth Theatre", "Pier Players Drama"),
            "Youth theatre and drama, {town}",
            "Acting, improvisation and a show at the end of term; no experience needed.",
            ((700, "per_session", "Session"), (6000, "one_off", "Term")),
            (13, 25),
            ("WE",),
            ("18:00", "20:00"),
            ("first_session_free",),
        ),
        ("Lewes", "Bexhill-on-Sea", "Rye", "Seaford"),
    ),
    (
        T(
            "tennis",
            ("racket-sports",),
            ("Baseline Tennis Club", "Shuttle Badminton Club"),
            "Tennis and badminton coaching, {town}",
            "Tennis and badminton for beginners: rackets lent, pay and play courts.",
            ((600, "per_session", "Court and coach"), (3000, "per_month", "Monthly coaching")),
            (11, None),
            ("MO", "SA"),
            ("17:00", "20:00"),
        ),
        ("Eastbourne", "Polegate", "Uckfield", "Hastings"),
    ),
    (
        T(
            "ballet",
            ("other-dance",),
            ("Pointe Ballet Studio", "Ballroom Nights"),
            "Ballet, contemporary and ballroom, {town}",
            "Adult beginners ballet, contemporary and ballroom dance classes.",
            ((800, "per_session", "Class"), (2800, "per_month", "Monthly pass")),
            (14, None),
            ("TH", "SA"),
            ("18:00", "19:30"),
        ),
        ("Eastbourne", "Hastings", "Lewes"),
    ),
    (
        T(
            "supplies",
            ("art-supplies",),
            ("Palette and Strings Supplies", "Maker's Cupboard"),
            "Art materials and instruments, {town}",
            "Sketchbooks, paints, guitars and keyboards; we help you choose starter kit.",
            ((1500, "one_off", "Starter sketch kit"), (9000, "one_off", "Starter guitar")),
            (None, None),
            ("MO,TU,WE,TH,FR,SA",),
            ("09:30", "17:30"),
        ),
        ("Hastings", "Eastbourne", "Crowborough", "Bexhill-on-Sea"),
    ),
    (
        T(
            "course",
            ("courses",),
            ("Bright Futures Learning", "Skills Shed"),
            "Short courses and tuition, {town}",
            "Short courses in barista skills, first aid, coding and English and maths tuition.",
            ((2500, "one_off", "One-day course"), (12000, "one_off", "Ten-week course")),
            (16, 25),
            ("MO,WE",),
            ("10:00", "15:00"),
            ("care_experienced",),
        ),
        ("Hastings", "Lewes", "Hailsham"),
    ),
    (
        T(
            "women-boxing",
            ("boxing-martial-arts",),
            ("Sisters in Sport",),
            "Women-only boxing fitness, {town}",
            "Women-only boxing fitness and self-defence in a friendly, welcoming group.",
            ((400, "per_session", "Class"),),
            (16, None),
            ("TU",),
            ("19:00", "20:00"),
            ("first_session_free", "bring_a_friend"),
        ),
        ("Eastbourne", "Hastings", "Lewes"),
    ),
    (
        T(
            "women-swim",
            ("swimming",),
            ("Sisters in Sport",),
            "Women-only swim sessions, {town}",
            "Women-only swimming sessions with female lifeguards and lessons for new swimmers.",
            ((450, "per_session", "Swim"),),
            (14, None),
            ("SU",),
            ("18:00", "19:30"),
        ),
        ("Bexhill-on-Sea", "Seaford", "Eastbourne"),
    ),
)
# Appended rather than inserted, so the listings and providers above keep their numbers: short
# courses had only two towns whose provider can be funded (Hailsham's provider is unchecked).
COVERAGE += ((next(t for t, _towns in COVERAGE if t.key == "course"), ("Eastbourne",)),)
_COVERAGE_SLOTS: tuple[tuple[Template, str], ...] = tuple(
    (template, town) for template, towns in COVERAGE for town in towns
)
PROVIDERS = BASE_PROVIDERS + len(_COVERAGE_SLOTS)
ALL_LISTINGS = LISTINGS + len(_COVERAGE_SLOTS)
ACCESSIBILITY = (
    "wheelchair_accessible",
    "step_free",
    "accessible_toilet",
    "hearing_loop",
    "quiet_space",
    "autism_friendly",
)
LANGUAGE_SETS = (("en",), ("en",), ("en",), ("en", "pl"), ("en", "ar"), ("en", "uk"), ("en", "ro"))


@dataclass(frozen=True)
class DemoCostOption:
    id: str
    amount_pence: int
    unit: str
    description: str


@dataclass(frozen=True)
class DemoSchedule:
    byday: str
    opens_at: str
    closes_at: str


@dataclass(frozen=True)
class DemoCheck:
    kind: str
    expires_on: date
    checked_on: date
    reference: str


@dataclass(frozen=True)
class DemoProvider:
    number: int
    id: str
    name: str
    description: str
    email: str
    phone: str
    website: str
    town: str
    template: str
    works_with_children: bool
    checks: tuple[DemoCheck, ...]
    intended_state: (
        str  # what the checks are laid out to give: verified, expiring, lapsed, unchecked
    )


@dataclass(frozen=True)
class DemoListing:
    number: int
    id: str
    provider_number: int
    provider_id: str
    name: str
    description: str
    categories: list[str]
    town: str
    address_1: str
    postcode: str
    lat: float
    lng: float
    cost_options: list[DemoCostOption]
    schedules: list[DemoSchedule]
    min_age: int | None
    max_age: int | None
    accessibility: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    welcomes: list[str] = field(default_factory=list)
    status: str = "active"
    assured_date: date | None = None
    last_modified: datetime | None = None
    location_id: str = ""


def _template(k: int) -> Template:
    if k >= BASE_PROVIDERS:
        return _COVERAGE_SLOTS[k - BASE_PROVIDERS][0]
    if k in EXCLUDED_PROVIDERS:
        return EXCLUDED_TEMPLATES[EXCLUDED_PROVIDERS[k]]
    if k == 0:
        return TEMPLATES[0]
    return TEMPLATES[k % len(TEMPLATES)]


def _town(k: int, template: Template) -> Town:
    if k >= BASE_PROVIDERS:
        return TOWN_BY_NAME[_COVERAGE_SLOTS[k - BASE_PROVIDERS][1]]
    if k == 0:
        return TOWN_BY_NAME["Hastings"]
    cycle = k // len(TEMPLATES)
    if template.key == "salsa":
        return TOWN_BY_NAME[SALSA_TOWNS[cycle % len(SALSA_TOWNS)]]
    return TOWNS[(k * 7 + cycle * 3) % len(TOWNS)]


def _state(k: int) -> str:
    if k == 0:
        return "verified"
    if k % 17 == 5:
        return "lapsed"
    if k % 23 == 7:
        return "unchecked"
    if k % 19 == 3:
        return "expiring"
    return "verified"


def _short(town: str) -> str:
    return town.split("-")[0].split(" ")[0]


def provider(k: int, today: date = DEMO_TODAY) -> DemoProvider:
    if not 0 <= k < PROVIDERS:
        raise IndexError(f"demo provider {k} out of range")
    rng = random.Random(f"provider:{k}")
    template = _template(k)
    town = _town(k, template)
    if k == 0:
        name = "Hastings Harbour Gym"
    else:
        base = template.provider_names[(k // len(TEMPLATES)) % len(template.provider_names)]
        name = f"{_short(town.name)} {base}" if not base.startswith(_short(town.name)) else base
    slug = "".join(c for c in name.lower() if c.isalnum())[:30]
    children = template.ages[0] is None or template.ages[0] < 18
    kinds = ["insurance", "safeguarding"] + (["dbs"] if children else [])
    if "equine-therapy" in template.categories:
        kinds.append("qualification")
    state = _state(k)
    checks: list[DemoCheck] = []
    for i, kind in enumerate(kinds):
        checked = today - timedelta(days=rng.randint(20, 300))
        expires = today + timedelta(days=rng.randint(200, 700))
        if state == "lapsed" and i == 0:
            expires = today - timedelta(days=rng.randint(5, 120))
            checked = expires - timedelta(days=365)
        if state == "expiring" and i == 0:
            expires = today + timedelta(days=rng.randint(7, 25))
        if state == "unchecked" and kind == kinds[-1]:
            continue  # one check never recorded
        checks.append(DemoCheck(kind, expires, checked, f"DEMO-{kind[:3].upper()}-{k:04d}-{i}"))
    return DemoProvider(
        number=k,
        id=demo_uuid("provider", k),
        name=name,
        description=f"{name} is a fictional {template.title.split(',')[0].lower()} provider "
        f"in {town.name}, East Sussex.",
        email=f"hello@{slug}.example",
        phone=f"01632 960{k % 1000:03d}",
        website=f"https://{slug}.example",
        town=town.name,
        template=template.key,
        works_with_children=children,
        checks=tuple(checks),
        intended_state=state,
    )


def _listing_provider(n: int) -> tuple[int, bool]:
    """(provider number, is it the provider's second listing)."""
    if n < BASE_PROVIDERS:
        return n, False
    if n >= LISTINGS:
        return BASE_PROVIDERS + n - LISTINGS, False
    k = ((n - BASE_PROVIDERS) * 3 + 1) % BASE_PROVIDERS
    while k in EXCLUDED_PROVIDERS:
        k += 1
    return k, True


def listing(n: int, today: date = DEMO_TODAY) -> DemoListing:
    if not 0 <= n < ALL_LISTINGS:
        raise IndexError(f"demo listing {n} out of range")
    k, second = _listing_provider(n)
    prov = provider(k, today)
    template = _template(k)
    town = TOWN_BY_NAME[prov.town]
    rng = random.Random(f"listing:{n}")
    if n == 0:
        name = "Hastings Harbour Gym"
        description = (
            "A friendly gym on the seafront: free weights, cardio, classes and an induction "
            "with a coach who will write you a plan. Quiet hours every morning."
        )
    else:
        name = template.title.format(town=town.name)
        description = template.description
        if second:
            name = f"{template.title.split(',')[0]}: holiday taster, {town.name}"
            description = "A short holiday taster. " + description
    district = town.districts[rng.randrange(len(town.districts))]
    postcode = f"{district} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    spread = 0.02 if template.key != "salsa" else 0.006
    lat = round(town.lat + rng.uniform(-spread, spread), 5)
    lng = round(town.lng + rng.uniform(-spread, spread), 5)
    scale = rng.choice((1.0, 1.0, 0.8, 1.2, 1.4)) if n else 1.0
    prices = template.prices if not second else template.prices[:1]
    options = []
    for j, (pence, unit, desc) in enumerate(prices):
        amount = min(50000, int(round(pence * scale / 50.0)) * 50)
        options.append(DemoCostOption(demo_uuid("cost_option", f"{n}:{j}"), amount, unit, desc))
    days = template.days
    chosen = days if n % 2 == 0 else (days[n % len(days)],)
    schedules = [DemoSchedule(d, *template.hours) for d in chosen]
    lo, hi = template.ages
    if lo is not None and n % 5 == 2:
        lo = min(lo + 2, 18)
    if hi is None and n % 7 == 3:
        hi = 30
    access = sorted(rng.sample(ACCESSIBILITY, rng.randint(0, 3)))
    languages = list(LANGUAGE_SETS[n % len(LANGUAGE_SETS)])
    welcomes = list(template.welcomes)
    if n % 4 == 1 and "care_experienced" not in welcomes:
        welcomes.append("care_experienced")
    status = "active"
    if n >= LISTINGS:
        pass  # coverage listings are all open: every term in three towns or more
    elif n % 29 == 11:
        status = "inactive"
    elif n % 41 == 20:
        status = "temporarily_closed"
    elif n == 77:
        status = "defunct"
    if n % 13 == 6:
        assured = today - timedelta(days=rng.randint(400, 700))  # stale: not assured for a year
    else:
        assured = today - timedelta(days=rng.randint(1, 300))
    modified = datetime.combine(
        today - timedelta(days=rng.randint(0, 60)), time(9 + n % 8, n % 60), tzinfo=UTC
    )
    if modified.date() < assured:
        modified = datetime.combine(assured, time(12, 0), tzinfo=UTC)
    return DemoListing(
        number=n,
        id=demo_uuid("listing", n),
        provider_number=k,
        provider_id=prov.id,
        name=name,
        description=description,
        categories=list(template.categories),
        town=town.name,
        address_1=f"{rng.randint(1, 120)} {town.streets[n % len(town.streets)]}",
        postcode=postcode,
        lat=lat,
        lng=lng,
        cost_options=options,
        schedules=schedules,
        min_age=lo,
        max_age=hi,
        accessibility=access,
        languages=languages,
        welcomes=welcomes,
        status=status,
        assured_date=assured,
        last_modified=modified,
        location_id=demo_uuid("location", n),
    )


def providers(today: date = DEMO_TODAY) -> list[DemoProvider]:
    return [provider(k, today) for k in range(PROVIDERS)]


def listings(today: date = DEMO_TODAY) -> list[DemoListing]:
    return [listing(n, today) for n in range(ALL_LISTINGS)]


assert demo_uuid("provider", 0) == DEMO_PROVIDER_ID


def shared_catalogue(today: date = DEMO_TODAY) -> dict[str, object]:
    """What other services' seeds may know of the demo catalogue: ids, names, prices, states.

    Written to `shared/demo_catalogue.json` (`python -m services.directory.demo_data`), so the
    budget seed refers to listings without importing the directory.
    """
    entries = []
    for n in range(LISTINGS):
        item = listing(n, today)
        owner = provider(item.provider_number, today)
        entries.append(
            {
                "number": n,
                "id": item.id,
                "cost_option_id": item.cost_options[0].id if item.cost_options else None,
                "name": item.name,
                "categories": list(item.categories),
                "price_pence": item.cost_options[0].amount_pence if item.cost_options else 0,
                "status": item.status,
                "provider_id": item.provider_id,
                "provider_name": owner.name,
                "provider_state": owner.intended_state,
            }
        )
    return {"demo_today": today.isoformat(), "listings": entries}


if __name__ == "__main__":
    import json
    import sys

    json.dump(shared_catalogue(), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
