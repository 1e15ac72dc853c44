"""Recording that an article resolved a support case (the CSR console)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from community import ratelimit
from community.audit import audit_log
from community.models import User

from .. import rules
from ..indexing import article_doc_id, schedule_index
from ..models import Article, ArticleUsage


@transaction.atomic
def article_record_usage(*, article: Article, user: User, case_ref: str) -> ArticleUsage:
    """Record that ``article`` resolved support case ``case_ref`` (CSRs and staff, from the console).

    Feeds the usage ranking signal and the agent's "recently used" list; audited as
    ``knowledge.article.used``. Raises PermissionDenied, ValidationError (``case_ref`` or
    ``article``), RateLimited.
    """
    rules.check_use_console(user)
    case_ref = (case_ref or "").strip()
    if not case_ref:
        raise ValidationError({"case_ref": "Enter the case reference this article resolved."})
    try:
        ArticleUsage._meta.get_field("case_ref").clean(case_ref, None)
    except ValidationError as exc:
        raise ValidationError({"case_ref": exc.messages}) from exc
    if not article.is_visible:
        raise ValidationError(
            {"article": "Only a published article can be recorded as used for a case."}
        )
    ratelimit.consume(user=user, kind="usage")
    usage = ArticleUsage.objects.create(article=article, user=user, case_ref=case_ref)
    audit_log(
        actor=user,
        action="knowledge.article.used",
        target=article,
        data={"usage": usage.pk, "case_ref": case_ref},
    )
    # Usage is a ranking signal stored in the search document: refresh it.
    schedule_index([article_doc_id(article.pk)])
    return usage
