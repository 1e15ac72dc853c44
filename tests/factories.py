"""factory-boy factories for test state. Call the real services where the process matters."""

import datetime as dt

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from community.markdown import render_markdown
from community.models import (
    Answer,
    AnswerRevision,
    Certification,
    ProductArea,
    Question,
    QuestionRevision,
    Tag,
    User,
)
from community.rules import CSRS_GROUP, MODERATORS_GROUP


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    display_name = factory.LazyAttribute(lambda u: u.username.title())
    password = factory.django.Password("pass-word-123")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            for name in extracted:
                self.groups.add(Group.objects.get_or_create(name=name)[0])
            self.save()


def moderator(**kwargs) -> User:
    return UserFactory(groups=[MODERATORS_GROUP], **kwargs)


def csr(**kwargs) -> User:
    return UserFactory(groups=[CSRS_GROUP], **kwargs)


class ProductAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductArea
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tag-{n}")


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    user = factory.SubFactory(UserFactory)
    area = factory.SubFactory(ProductAreaFactory)
    granted_by = factory.LazyFunction(moderator)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=365))


def expert(area: ProductArea, **kwargs) -> User:
    user = UserFactory(**kwargs)
    CertificationFactory(user=user, area=area)
    return user


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question
        skip_postgeneration_save = True

    area = factory.SubFactory(ProductAreaFactory)
    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"How do I reset the router model {n}?")
    body = "The status light blinks amber and the **reset** button does nothing."
    body_html = factory.LazyAttribute(lambda q: render_markdown(q.body))

    @factory.post_generation
    def revision(self, create, extracted, **kwargs):
        if create:
            QuestionRevision.objects.create(
                question=self, number=1, title=self.title, body=self.body, author=self.author
            )

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer
        skip_postgeneration_save = True

    question = factory.SubFactory(QuestionFactory)
    author = factory.SubFactory(UserFactory)
    body = "Hold the reset button for ten seconds until the light turns white."
    body_html = factory.LazyAttribute(lambda a: render_markdown(a.body))

    @factory.post_generation
    def revision(self, create, extracted, **kwargs):
        if create:
            AnswerRevision.objects.create(answer=self, number=1, body=self.body, author=self.author)
            Question.objects.filter(pk=self.question_id).update(
                answer_count=self.question.answers.count()
            )


class ArticleFactory(factory.django.DjangoModelFactory):
    """A published article promoted from an answer (state only; no validation or audit rows)."""

    class Meta:
        model = "knowledge.Article"
        skip_postgeneration_save = True

    source_answer = factory.SubFactory(AnswerFactory)
    source_question = factory.LazyAttribute(lambda a: a.source_answer.question)
    area = factory.LazyAttribute(lambda a: a.source_question.area)
    approved_revision = factory.LazyAttribute(
        lambda a: a.source_answer.revisions.order_by("-number").first()
    )
    title = factory.LazyAttribute(lambda a: a.source_question.title)
    problem = factory.LazyAttribute(lambda a: a.source_question.body)
    problem_html = factory.LazyAttribute(lambda a: render_markdown(a.problem))
    solution = factory.LazyAttribute(lambda a: a.source_answer.body)
    solution_html = factory.LazyAttribute(lambda a: render_markdown(a.solution))
    status = "published"
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


# --- Social routing (issue 5) ------------------------------------------------------------------


class DirectedQuestionFactory(factory.django.DjangoModelFactory):
    """A directed question (state only). Pass ``response_seconds`` to make it answered."""

    class Meta:
        model = "community.DirectedQuestion"

    question = factory.SubFactory(QuestionFactory)
    expert = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)
    promised_by = factory.LazyAttribute(lambda d: d.created_at + dt.timedelta(hours=24))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        seconds = kwargs.get("response_seconds")
        if seconds is not None:
            kwargs.setdefault("status", "answered")
            kwargs.setdefault("answered_at", kwargs["created_at"] + dt.timedelta(seconds=seconds))
            kwargs.setdefault("closed_at", kwargs["answered_at"])
        return super()._create(model_class, *args, **kwargs)


class ExpertRatingFactory(factory.django.DjangoModelFactory):
    """A rating row (state only) for the directory figures."""

    class Meta:
        model = "community.ExpertRating"

    directed = factory.SubFactory(DirectedQuestionFactory, response_seconds=60)
    question = factory.LazyAttribute(lambda r: r.directed.question)
    rater = factory.LazyAttribute(lambda r: r.directed.question.author)
    expert = factory.LazyAttribute(lambda r: r.directed.expert)
    score = 5


# --- Protocols and notifications (issue 4) -----------------------------------------------------


class ProtocolFactory(factory.django.DjangoModelFactory):
    """An active protocol; pass ``assignee=`` (named rule) or ``team=`` with a team rule."""

    class Meta:
        model = "moderation.Protocol"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Protocol {n}")
    trigger = "new_question"
    assignee_rule = "named"
    response_guide = "You may answer and ask for details. You must not promise refunds."
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class EscalationStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "moderation.EscalationStep"

    protocol = factory.SubFactory(ProtocolFactory)
    level = factory.Sequence(lambda n: n + 1)
    assignee_rule = "named"
    timeout_minutes = 30


def team(name: str, members=()) -> Group:
    """A Group used as a team, with ``members`` added."""
    group = Group.objects.get_or_create(name=name)[0]
    for member in members:
        member.groups.add(group)
    return group


class FlagFactory(factory.django.DjangoModelFactory):
    """An open flag on a question (pass ``question=None, answer=...`` for an answer)."""

    class Meta:
        model = "moderation.Flag"

    question = factory.SubFactory(QuestionFactory)
    reporter = factory.SubFactory(UserFactory)
    reason = "spam"
