"""Placing a town, a UK postcode or a postcode district, offline, for the demo area (East Sussex).

Pluggable: anything with `locate(place) -> (lat, lng) | None` can stand in for `OfflineGeocoder`
(pass it to `create_app`), e.g. one backed by a postcode service in production. A full postcode is placed at
its district's centre: good enough for "near" searches, and it needs no network.
"""

from __future__ import annotations

import re
from typing import Protocol

# town centres (WGS84)
TOWNS: dict[str, tuple[float, float]] = {
    "hastings": (50.8543, 0.5735),
    "st leonards-on-sea": (50.8560, 0.5460),
    "st leonards": (50.8560, 0.5460),
    "eastbourne": (50.7684, 0.2903),
    "bexhill-on-sea": (50.8424, 0.4676),
    "bexhill": (50.8424, 0.4676),
    "lewes": (50.8739, 0.0088),
    "seaford": (50.7716, 0.1024),
    "newhaven": (50.7930, 0.0470),
    "crowborough": (51.0600, 0.1620),
    "uckfield": (50.9695, 0.0963),
    "hailsham": (50.8625, 0.2580),
    "rye": (50.9510, 0.7340),
    "battle": (50.9170, 0.4840),
    "heathfield": (50.9670, 0.2530),
    "polegate": (50.8210, 0.2450),
    "peacehaven": (50.7930, -0.0060),
    "wadhurst": (51.0630, 0.3390),
    "forest row": (51.0960, 0.0320),
    "ringmer": (50.8930, 0.0560),
    "winchelsea": (50.9250, 0.7090),
    "pevensey": (50.8190, 0.3370),
    "brighton": (50.8225, -0.1372),
    "hove": (50.8279, -0.1688),
    "tunbridge wells": (51.1324, 0.2637),
}

# postcode districts of the area and its edges: approximate centres
DISTRICTS: dict[str, tuple[float, float]] = {
    "TN5": (51.0630, 0.3390),
    "TN6": (51.0600, 0.1620),
    "TN7": (51.0830, 0.1280),
    "TN19": (50.9870, 0.3940),
    "TN20": (51.0230, 0.2390),
    "TN21": (50.9670, 0.2530),
    "TN22": (50.9695, 0.0963),
    "TN31": (50.9510, 0.7340),
    "TN32": (50.9870, 0.5170),
    "TN33": (50.9170, 0.4840),
    "TN34": (50.8600, 0.5800),
    "TN35": (50.8750, 0.6200),
    "TN36": (50.9250, 0.7090),
    "TN37": (50.8700, 0.5530),
    "TN38": (50.8580, 0.5400),
    "TN39": (50.8420, 0.4500),
    "TN40": (50.8460, 0.4900),
    "BN7": (50.8739, 0.0088),
    "BN8": (50.9100, 0.0500),
    "BN9": (50.7930, 0.0470),
    "BN10": (50.7930, -0.0060),
    "BN20": (50.7600, 0.2650),
    "BN21": (50.7690, 0.2800),
    "BN22": (50.7850, 0.2900),
    "BN23": (50.7950, 0.3200),
    "BN24": (50.8190, 0.3370),
    "BN25": (50.7716, 0.1024),
    "BN26": (50.8210, 0.2450),
    "BN27": (50.8625, 0.2580),
    "RH18": (51.0960, 0.0320),
    "BN1": (50.8290, -0.1400),
    "BN2": (50.8250, -0.1100),
    "BN3": (50.8300, -0.1700),
    "TN1": (51.1324, 0.2637),
    "TN2": (51.1350, 0.2800),
}


class Geocoder(Protocol):
    def locate(self, place: str) -> tuple[float, float] | None: ...


def normalise_postcode(text: str) -> str | None:
    """'bn21 4ab' -> 'BN21 4AB', 'tn34' -> 'TN34'; None if it isn't shaped like a postcode."""
    compact = re.sub(r"\s+", "", text.upper())
    if len(compact) > 4 and re.match(r"^[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}$", compact):
        return f"{compact[:-3]} {compact[-3:]}"
    if re.match(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$", compact):
        return compact
    return None


class OfflineGeocoder:
    """Towns and postcode districts of East Sussex from a table in this module."""

    def __init__(
        self,
        towns: dict[str, tuple[float, float]] | None = None,
        districts: dict[str, tuple[float, float]] | None = None,
    ):
        self.towns = towns or TOWNS
        self.districts = districts or DISTRICTS

    def locate(self, place: str) -> tuple[float, float] | None:
        text = " ".join(str(place).strip().split())[:100]
        if not text:
            return None
        town = text.lower().removesuffix(", east sussex").strip()
        if town in self.towns:
            return self.towns[town]
        postcode = normalise_postcode(text)
        if postcode is None:
            return None
        district = postcode.split(" ")[0]
        return self.districts.get(district)
