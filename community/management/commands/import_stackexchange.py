"""manage.py import_stackexchange DUMP_DIR --area SLUG [--area-name NAME] [--site HOST]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from community.importer import DumpError, ImportSummary, import_stackexchange_dump

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import an official Stack Exchange data dump (Posts.xml, Users.xml, optional Votes.xml) "
        "into a product area. Re-running updates the imported rows instead of duplicating them."
    )

    def add_arguments(self, parser):
        parser.add_argument("dump_dir", help="Directory holding the extracted dump's XML files.")
        parser.add_argument(
            "--area", required=True, help="Slug of the product area (created if missing)."
        )
        parser.add_argument(
            "--area-name", help="Display name for the area; defaults to one derived from the site."
        )
        parser.add_argument(
            "--site",
            help="Site host for attribution links, e.g. iot.stackexchange.com; "
            "defaults to the dump directory's name.",
        )

    def handle(self, *args, **options):
        try:
            summary = import_stackexchange_dump(
                dump_dir=options["dump_dir"],
                area_slug=options["area"],
                area_name=options["area_name"],
                site=options["site"],
                progress=self._progress,
            )
        except DumpError as exc:
            self._end_bar()
            raise CommandError(str(exc)) from exc
        self._end_bar()
        self.stdout.write(self.style.SUCCESS(_describe(summary)))

    _bar_shown = False

    def _end_bar(self) -> None:
        if self._bar_shown:
            self.stderr.write("")
            self._bar_shown = False

    def _progress(self, done: int, total: int) -> None:
        self._bar_shown = True
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        percent = 100 * done // total if total else 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        # Plain style: stderr's default style colours everything as an error.
        self.stderr.write(
            f"\r[{bar}] {percent:3d}% {done}/{total} posts", style_func=str, ending=""
        )
        self.stderr.flush()


def _describe(s: ImportSummary) -> str:
    return "\n".join(
        [
            f"Imported {s.site} into area '{s.area}' in {s.seconds:.1f} s "
            f"({s.posts_per_second:.0f} posts/s).",
            f"  questions: {s.questions_created} created, {s.questions_updated} updated",
            f"  answers:   {s.answers_created} created, {s.answers_updated} updated"
            + (
                f", {s.skipped_answers} skipped (question not in dump)" if s.skipped_answers else ""
            ),
            f"  unchanged posts (already imported): {s.unchanged}",
            f"  users:     {s.users_created} created, {s.users_updated} updated (inactive placeholders)",
            f"  accepted answers: {s.accepted}; revisions added by re-import: {s.revisions_added}",
            f"  votes in dump: {s.votes_up} up, {s.votes_down} down (kept as scores)",
            f"  threads announced for search indexing: {s.threads_announced}",
        ]
    )
