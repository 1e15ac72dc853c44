"""Load the Lumen Home demo community (community/demo_content.py) through the real services.

Posting, voting, accepting, validating and editing all go through the same services as real use,
so the demo has revisions, audit entries, articles (one waiting for review) and index outbox rows
exactly as the product would produce them. Services stamp "now"; afterwards this command backdates
the rows to the relative times in the demo data so the site looks like two months of activity.

Demo accounts share one published password: the command refuses to run against a database that
already holds questions unless ``--force`` is given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from community import demo_content as demo
from community import ratelimit, rules
from community import services as community_services
from community.models import (
    Answer,
    AnswerRevision,
    Certification,
    Comment,
    ProductArea,
    Question,
    QuestionRevision,
    User,
    Vote,
)
from community.rules import CSRS_GROUP, MODERATORS_GROUP
from knowledge import indexing
from knowledge import services as knowledge_services
from knowledge.models import Article, ArticleRevision, Validation

ROLE_GROUPS = {"csr": CSRS_GROUP, "moderator": MODERATORS_GROUP}
# The sync drains the whole outbox of a fresh demo in one call.
OUTBOX_DRAIN_LIMIT = 100_000


class Command(BaseCommand):
    help = (
        "Load the Lumen Home demo community (areas, accounts for every role, threads, validated "
        "answers and KB articles). Demo accounts share one password: never use on a live site."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even though the database already has questions (still never on a live site).",
        )

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        area_slugs = [area["slug"] for area in demo.AREAS]
        if ProductArea.objects.filter(slug__in=area_slugs).exists():
            self.stdout.write("Demo content already loaded.")
            return
        if Question.objects.exists() and not force:
            raise CommandError(
                "The database already has questions. The demo adds accounts with a published "
                "password, so it loads only into an empty community (use --force to override)."
            )
        self._check_accounts_are_free()

        # Replayed history: demo members act before they could have earned their privileges.
        with (
            transaction.atomic(),
            ratelimit.suspended(),
            rules.privileges_waived(),
            indexing.deferred(),
        ):
            loader = _DemoLoader(now=timezone.now())
            loader.load()

        # Index now rather than waiting for the worker, so a fresh `make run` has a searchable KB.
        pending = knowledge_services.search_outbox_pending(
            older_than_seconds=0, limit=OUTBOX_DRAIN_LIMIT
        )
        try:
            knowledge_services.search_sync(doc_ids=pending)
        except Exception as exc:  # e.g. a worker holding the Whoosh write lock
            # The demo is committed and its outbox rows remain, so the worker's reconcile task
            # (or `manage.py rebuild_index`) will index it: report, don't fail the load.
            self.stderr.write(
                self.style.WARNING(
                    f"Search indexing deferred ({exc.__class__.__name__}: {exc}); the worker "
                    "will index the demo, or run `manage.py rebuild_index`."
                )
            )
            pending = []
        self._print_summary(loader, indexed=len(pending))

    def _check_accounts_are_free(self) -> None:
        usernames = [account["username"] for account in demo.ACCOUNTS]
        emails = [account["email"] for account in demo.ACCOUNTS]
        taken = sorted(
            set(
                User.objects.filter(Q(username__in=usernames) | Q(email__in=emails)).values_list(
                    "username", flat=True
                )
            )
            | set(
                EmailAddress.objects.filter(email__in=emails).values_list(
                    "user__username", flat=True
                )
            )
        )
        if taken:
            raise CommandError(
                f"Demo accounts would clash with existing users: {', '.join(taken)}. "
                "Load the demo into a fresh database."
            )

    def _print_summary(self, loader: _DemoLoader, *, indexed: int) -> None:
        area_ids = [area.pk for area in loader.areas_by_slug.values()]
        questions = Question.objects.filter(area_id__in=area_ids)
        answers = Answer.objects.filter(question__area_id__in=area_ids)
        articles = Article.objects.filter(area_id__in=area_ids)
        out = self.stdout
        out.write(self.style.SUCCESS("Loaded the Lumen Home demo community."))
        out.write(f"  product areas:      {len(area_ids)}")
        out.write(
            f"  questions:          {questions.count()} "
            f"({questions.filter(answer_count=0).count()} unanswered)"
        )
        out.write(
            f"  answers:            {answers.count()} "
            f"({answers.filter(accepted_for__isnull=False).count()} accepted)"
        )
        out.write(f"  validated answers:  {answers.filter(validated_at__isnull=False).count()}")
        out.write(
            f"  KB articles:        {articles.count()} "
            f"({articles.filter(status=Article.Status.PUBLISHED).count()} published, "
            f"{articles.filter(status=Article.Status.NEEDS_REVIEW).count()} needs review)"
        )
        out.write(f"  search documents:   {indexed} synced")
        out.write("")
        out.write(
            self.style.WARNING(
                f'Demo accounts (DEMO ONLY): every one signs in with the password "{demo.DEMO_PASSWORD}"'
            )
        )
        for account in demo.ACCOUNTS:
            role = account["role"]
            if account.get("certified_for"):
                names = ", ".join(loader.areas_by_slug[s].name for s in account["certified_for"])
                role = f"{role} ({names})"
            out.write(f"  {account['email']:<24} {account['username']:<8} {role}")


class _DemoLoader:
    """Creates the demo through the services, then backdates rows to the demo's timeline."""

    def __init__(self, *, now: dt.datetime) -> None:
        self.now = now
        self.users: dict[str, User] = {}
        self.areas_by_slug: dict[str, ProductArea] = {}

    def load(self) -> None:
        self._create_areas()
        self._create_accounts()
        self._grant_certifications()
        for thread in sorted(demo.THREADS, key=lambda t: -t["days_ago"]):
            self._load_thread(thread)

    # --- time -------------------------------------------------------------------------------
    def _at(self, moment: dt.datetime) -> dt.datetime:
        # Relative offsets can run past the present for recent threads; nothing happens in the future.
        return min(moment, self.now - dt.timedelta(minutes=1))

    def _days_ago(self, days: float) -> dt.datetime:
        return self._at(self.now - dt.timedelta(days=days))

    def _after(self, moment: dt.datetime, hours: float) -> dt.datetime:
        return self._at(moment + dt.timedelta(hours=hours))

    # --- people and areas (no service owns these: they are set-up data, like createsuperuser) --
    def _create_areas(self) -> None:
        for position, spec in enumerate(demo.AREAS, start=1):
            self.areas_by_slug[spec["slug"]] = ProductArea.objects.create(
                slug=spec["slug"],
                name=spec["name"],
                description=spec["description"],
                position=position,
            )

    def _create_accounts(self) -> None:
        # One hash for the shared password: a full-strength hash per account costs seconds.
        password_hash = make_password(demo.DEMO_PASSWORD)
        for spec in demo.ACCOUNTS:
            create = (
                User.objects.create_superuser
                if spec["role"] == "admin"
                else User.objects.create_user
            )
            user = create(
                username=spec["username"],
                email=spec["email"],
                password=None,
                display_name=spec["display_name"],
                bio=spec["bio"],
            )
            User.objects.filter(pk=user.pk).update(
                password=password_hash, date_joined=self._days_ago(spec["joined_days_ago"])
            )
            if spec["role"] in ROLE_GROUPS:
                user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[spec["role"]])[0])
            # Sign-in requires a verified address (ACCOUNT_EMAIL_VERIFICATION = "mandatory").
            EmailAddress.objects.create(user=user, email=spec["email"], verified=True, primary=True)
            self.users[spec["username"]] = user

    def _grant_certifications(self) -> None:
        granted_by = self.users[demo.CERTIFICATIONS_GRANTED_BY]
        granted_at = self._days_ago(demo.CERTIFICATIONS_GRANTED_DAYS_AGO)
        for spec in demo.ACCOUNTS:
            for slug in spec.get("certified_for", ()):
                cert = community_services.certification_grant(
                    user=self.users[spec["username"]],
                    area=self.areas_by_slug[slug],
                    granted_by=granted_by,
                    expires_at=granted_at + dt.timedelta(days=365),
                    notify_expert=False,  # history, granted long before the demo starts
                )
                Certification.objects.filter(pk=cert.pk).update(granted_at=granted_at)

    # --- threads ----------------------------------------------------------------------------
    def _load_thread(self, spec: dict[str, Any]) -> None:
        asker = self.users[spec["author"]]
        asked_at = self._days_ago(spec["days_ago"])
        question = community_services.question_create(
            author=asker,
            area=self.areas_by_slug[spec["area"]],
            title=spec["title"],
            body=spec["body"],
            tags=spec["tags"],
        )
        QuestionRevision.objects.filter(question=question).update(created_at=asked_at)
        activity = [asked_at]
        self._cast_votes(question, spec.get("votes", {}), posted_at=asked_at)
        activity += self._add_comments(question, spec.get("comments", ()), posted_at=asked_at)
        for answer_spec in sorted(spec.get("answers", ()), key=lambda a: a["after_hours"]):
            activity += self._load_answer(question, asker, answer_spec, asked_at=asked_at)
        Question.objects.filter(pk=question.pk).update(
            created_at=asked_at, updated_at=asked_at, last_activity_at=max(activity)
        )

    def _load_answer(
        self, question: Question, asker: User, spec: dict[str, Any], *, asked_at: dt.datetime
    ) -> list[dt.datetime]:
        """Post one answer with its votes, comments, acceptance, validation and later edit;
        returns the moments of activity it adds to the thread."""
        answered_at = self._after(asked_at, spec["after_hours"])
        answer = community_services.answer_create(
            question=question, author=self.users[spec["author"]], body=spec["body"]
        )
        AnswerRevision.objects.filter(answer=answer).update(created_at=answered_at)
        Answer.objects.filter(pk=answer.pk).update(created_at=answered_at, updated_at=answered_at)
        activity = [answered_at]
        self._cast_votes(answer, spec.get("votes", {}), posted_at=answered_at)
        activity += self._add_comments(answer, spec.get("comments", ()), posted_at=answered_at)
        if spec.get("accepted"):
            community_services.answer_accept(answer=answer, user=asker)
        if validated := spec.get("validated"):
            validated_at = self._after(answered_at, validated["after_hours"])
            self._validate(answer, validated, validated_at=validated_at)
            activity.append(validated_at)
        if edit := spec.get("edit"):
            edited_at = self._after(answered_at, edit["after_hours"])
            answer = community_services.answer_edit(
                answer=answer,
                editor=self.users[edit["by"]],
                body=edit["body"],
                summary=edit["summary"],
            )
            AnswerRevision.objects.filter(answer=answer, number=answer.revision_count).update(
                created_at=edited_at
            )
            Answer.objects.filter(pk=answer.pk).update(updated_at=edited_at)
            # An edit after validation sent the article to review at this moment.
            Article.objects.filter(source_answer=answer, status=Article.Status.NEEDS_REVIEW).update(
                updated_at=edited_at
            )
            activity.append(edited_at)
        return activity

    def _validate(self, answer: Answer, spec: dict[str, Any], *, validated_at: dt.datetime) -> None:
        validation = knowledge_services.answer_validate(
            answer=answer, validator=self.users[spec["by"]], note=spec.get("note", "")
        )
        Validation.objects.filter(pk=validation.pk).update(created_at=validated_at)
        Answer.objects.filter(pk=answer.pk).update(validated_at=validated_at)
        Article.objects.filter(source_answer=answer).update(
            created_at=validated_at, updated_at=validated_at, published_at=validated_at
        )
        ArticleRevision.objects.filter(article__source_answer=answer).update(
            created_at=validated_at
        )

    def _cast_votes(
        self, post: Question | Answer, votes: dict[str, int], *, posted_at: dt.datetime
    ) -> None:
        for hours, (username, value) in enumerate(votes.items(), start=1):
            voter = self.users[username]
            community_services.vote_cast(user=voter, post=post, value=value)
            lookup = {"question": post} if isinstance(post, Question) else {"answer": post}
            Vote.objects.filter(user=voter, **lookup).update(
                created_at=self._after(posted_at, hours * 1.5)
            )

    def _add_comments(
        self, post: Question | Answer, comments: Any, *, posted_at: dt.datetime
    ) -> list[dt.datetime]:
        moments = []
        target = {"question": post} if isinstance(post, Question) else {"answer": post}
        for spec in comments:
            commented_at = self._after(posted_at, spec["after_hours"])
            comment = community_services.comment_create(
                author=self.users[spec["author"]], body=spec["body"], **target
            )
            Comment.objects.filter(pk=comment.pk).update(created_at=commented_at)
            moments.append(commented_at)
        return moments
