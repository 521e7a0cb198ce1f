"""Commands: what a caller asks the outcomes service to do, as small typed values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.identity import Identity


@dataclass(frozen=True, kw_only=True)
class IssueLink:
    """A new feedback link for an open check-in; any earlier unused link stops working."""

    actor: Identity
    checkin_id: str
    link_days: int


@dataclass(frozen=True, kw_only=True)
class AnswerByLink:
    """The young person's answers, sent through the link's token (the only credential)."""

    token: str
    answers: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class AnswerByAdvisor:
    """Answers the advisor enters sitting with the young person."""

    actor: Identity
    checkin_id: str
    answers: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class AddObservation:
    actor: Identity
    checkin_id: str
    text: str


@dataclass(frozen=True, kw_only=True)
class DraftCaseStudy:
    actor: Identity
    person_id: str
    title: str
    story: str


@dataclass(frozen=True, kw_only=True)
class ApproveCaseStudy:
    actor: Identity
    study_id: str


@dataclass(frozen=True, kw_only=True)
class ReceiveEvent:
    """One event from the budget service, applied once whatever the redeliveries."""

    id: str
    topic: str
    payload: dict[str, Any]
    occurred_at: Any

    @classmethod
    def of(cls, event: dict[str, Any]) -> ReceiveEvent:
        return cls(
            id=str(event["id"]),
            topic=event["topic"],
            payload=event["payload"],
            occurred_at=event["occurred_at"],
        )


@dataclass(frozen=True)
class ReceiveEvents:
    """Events from the budget service in the order it wrote them, applied in one transaction, each
    once whatever the redeliveries."""

    events: tuple[ReceiveEvent, ...]


@dataclass(frozen=True, kw_only=True)
class ReplayEvents:
    """Re-apply held events (or, with `everything`, every kept event in arrival order)."""

    everything: bool = False
