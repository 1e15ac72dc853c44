"""Rebuild the whole search index from the database, swapping it in atomically."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from knowledge.search import get_backend, semantic
from knowledge.search.documents import count_documents, iter_documents

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Rebuild the search index from every visible article and thread; with semantic search "
        "on, also embed documents whose text changed and drop vectors of removed ones."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows read from the database per batch (default 500).",
        )

    def handle(self, *args, batch_size: int, verbosity: int, **options):
        total = count_documents()
        started = time.monotonic()
        show_progress = verbosity >= 1

        def progress(done: int) -> None:
            if show_progress:
                self.stderr.write(
                    _progress_line(done, total, time.monotonic() - started), ending=""
                )
                self.stderr.flush()

        # The model loads only if some document changed (after the index is swapped in).
        plan = semantic.RebuildPlan() if semantic.semantic_enabled() else None
        documents = iter_documents(batch_size=batch_size)
        if plan is not None:
            documents = plan.watch(documents)
        count = get_backend().rebuild(documents, progress=progress)
        elapsed = time.monotonic() - started
        if show_progress and count:
            self.stderr.write("")  # end the progress line
        rate = count / elapsed if elapsed > 0 else float(count)
        self.stdout.write(
            self.style.SUCCESS(f"Indexed {count} documents in {elapsed:.1f} s ({rate:.0f} docs/s).")
        )
        if plan is not None:
            self._embed(plan, batch_size=batch_size, show_progress=show_progress)

    def _embed(self, plan: semantic.RebuildPlan, *, batch_size: int, show_progress: bool) -> None:
        """Embed only documents whose text changed; unchanged vectors are kept."""
        pruned = plan.prune()
        todo = len(plan.changed)
        if todo and not semantic.available():
            self.stderr.write(
                self.style.WARNING(
                    f"Semantic search is on but its packages are missing: {todo} documents "
                    "were not embedded (they keep their lexical place)."
                )
            )
            return
        started = time.monotonic()

        def progress(done: int) -> None:
            if show_progress:
                self.stderr.write(_progress_line(done, todo, time.monotonic() - started), ending="")
                self.stderr.flush()

        embedded = plan.apply(lambda: iter_documents(batch_size=batch_size), progress=progress)
        elapsed = time.monotonic() - started
        if show_progress and embedded:
            self.stderr.write("")
        rate = embedded / elapsed if elapsed > 0 else float(embedded)
        self.stdout.write(
            self.style.SUCCESS(
                f"Embedded {embedded} changed documents in {elapsed:.1f} s ({rate:.0f} docs/s); "
                f"{len(plan.seen) - todo} unchanged, {pruned} removed."
            )
        )


def _progress_line(done: int, total: int, elapsed: float) -> str:
    total = max(total, done, 1)
    filled = round(BAR_WIDTH * done / total)
    rate = done / elapsed if elapsed > 0 else 0.0
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    # A carriage return redraws the bar in place on a terminal.
    return f"\r[{bar}] {done}/{total} {100 * done / total:5.1f}% {rate:,.0f} docs/s"
