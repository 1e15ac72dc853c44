"""An answer's standing: the trust tiers it has earned, each with who and when.

Pure data built by ``selectors.answer_standings`` from rows it loaded in a constant number of
queries; templates and the API render it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings

from community.models import Answer

from .models import AnswerCorrection, Validation

# Strongest first; a live correction outranks every positive tier.
TIER_LABELS = {
    "not_recommended": "Not recommended",
    "obsolete": "Obsolete",
    "validated_staff": "Validated by staff",
    "validated_expert": "Validated by a certified expert",
    "endorsed": "Endorsed by the community",
    "accepted": "Accepted by the asker",
}
TIER_ORDER = tuple(TIER_LABELS)
# An answer that earned no tier (the console uses the same words for such a hit).
NO_TIER_LABEL = "Community answer"


@dataclass
class AnswerStanding:
    answer: Answer
    accepted: bool = False
    accepted_by: object | None = None  # the asker
    score: int = 0
    endorse_score: int = 0
    validations: list[Validation] = field(default_factory=list)  # every non-revoked one
    correction: AnswerCorrection | None = None

    @property
    def endorsed(self) -> bool:
        return self.score >= self.endorse_score

    @property
    def active(self) -> list[Validation]:
        return [v for v in self.validations if v.status == Validation.Status.ACTIVE]

    @property
    def staff_validations(self) -> list[Validation]:
        return [v for v in self.active if v.as_staff]

    @property
    def expert_validations(self) -> list[Validation]:
        return [v for v in self.active if not v.as_staff]

    @property
    def needs_recheck(self) -> list[Validation]:
        return [v for v in self.validations if v.status == Validation.Status.NEEDS_RECHECK]

    @property
    def tiers(self) -> list[str]:
        """Every tier earned, strongest first."""
        earned = set()
        if self.correction is not None:
            earned.add(self.correction.kind)
        if self.staff_validations:
            earned.add("validated_staff")
        if self.expert_validations:
            earned.add("validated_expert")
        if self.endorsed:
            earned.add("endorsed")
        if self.accepted:
            earned.add("accepted")
        return [tier for tier in TIER_ORDER if tier in earned]

    @property
    def tier(self) -> str:
        """The strongest tier, or "" for a plain community answer."""
        tiers = self.tiers
        return tiers[0] if tiers else ""

    @property
    def tier_label(self) -> str:
        return TIER_LABELS.get(self.tier, NO_TIER_LABEL)

    @property
    def is_corrected(self) -> bool:
        return self.correction is not None

    @property
    def next_recheck_at(self) -> dt.datetime | None:
        dates = [v.recheck_at for v in self.active if v.recheck_at]
        return min(dates) if dates else None


def build_standing(
    answer: Answer,
    *,
    validations: list[Validation],
    correction: AnswerCorrection | None,
) -> AnswerStanding:
    """Standing of ``answer`` from preloaded rows (``answer.question`` must be loaded)."""
    question = answer.question
    accepted = question.accepted_answer_id == answer.pk
    return AnswerStanding(
        answer=answer,
        accepted=accepted,
        accepted_by=question.author if accepted else None,
        score=answer.score,
        endorse_score=settings.PEERDESK["ENDORSE_SCORE"],
        validations=validations,
        correction=correction,
    )
