"""The trust-signal ranking weights every backend applies (docs/search.md, "Ranking")."""

from __future__ import annotations

from django.conf import settings

# Defaults of settings.PEERDESK_SEARCH_RANKING (documented in docs/search.md).
DEFAULT_RANKING: dict[str, float] = {
    "tier": 0.15,
    "votes": 0.05,
    "freshness": 0.2,
    "freshness_half_life_days": 365.0,
    "usage": 0.1,
}


def ranking_weights() -> dict[str, float]:
    """The configured ranking weights over the defaults (read per query: tests and operators
    change them without restarting)."""
    return {**DEFAULT_RANKING, **getattr(settings, "PEERDESK_SEARCH_RANKING", {})}
