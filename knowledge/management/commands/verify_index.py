"""Compare the search index with the database; report (and optionally repair) drift."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError

from knowledge import services
from knowledge.search import get_backend
from knowledge.search.documents import all_doc_versions

REPAIR_BATCH = 500


@dataclass(frozen=True)
class Drift:
    missing: list[str]
    stale: list[str]
    extra: list[str]

    @property
    def doc_ids(self) -> list[str]:
        return sorted({*self.missing, *self.stale, *self.extra})

    def __bool__(self) -> bool:
        return bool(self.missing or self.stale or self.extra)


def find_drift() -> Drift:
    """Documents missing from the index, indexed with an old ``updated_at``, or not expected."""
    expected = all_doc_versions()
    stored = get_backend().stored_versions()
    return Drift(
        missing=sorted(expected.keys() - stored.keys()),
        stale=sorted(d for d in expected.keys() & stored.keys() if expected[d] != stored[d]),
        extra=sorted(stored.keys() - expected.keys()),
    )


class Command(BaseCommand):
    help = "Check that the search index matches the database; exit non-zero on drift."

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="Re-sync every drifting document."
        )
        parser.add_argument(
            "--show", type=int, default=20, help="How many ids to list per kind (default 20)."
        )

    def handle(self, *args, repair: bool, show: int, **options):
        drift = find_drift()
        if not drift:
            self.stdout.write(self.style.SUCCESS("The search index matches the database."))
            return
        self._report(drift, show)
        if not repair:
            raise CommandError(
                f"Search index drift: {len(drift.doc_ids)} documents. "
                "Run verify_index --repair or rebuild_index."
            )
        ids = drift.doc_ids
        for start in range(0, len(ids), REPAIR_BATCH):
            services.search_sync(doc_ids=ids[start : start + REPAIR_BATCH])
        remaining = find_drift()
        if remaining:
            self._report(remaining, show)
            raise CommandError(
                f"{len(remaining.doc_ids)} documents still drift after repair "
                "(changed meanwhile?); run verify_index again."
            )
        self.stdout.write(self.style.SUCCESS(f"Repaired {len(ids)} documents."))

    def _report(self, drift: Drift, show: int) -> None:
        for label, ids in (
            ("missing from the index", drift.missing),
            ("stale (updated_at differs)", drift.stale),
            ("extra (should not be indexed)", drift.extra),
        ):
            if ids:
                listed = ", ".join(ids[:show]) + (" …" if len(ids) > show else "")
                self.stdout.write(f"{len(ids)} {label}: {listed}")
