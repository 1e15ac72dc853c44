"""Every knowledge write, by sub-domain: validating answers, articles and their lifecycle,
corrections, keeping articles honest when their sources change, usage, and the search index.

Callers import this package (``from knowledge import services; services.answer_validate``);
the sub-modules are an implementation detail.
"""

from .articles import (
    article_create,
    article_edit,
    article_mark_needs_review,
    article_promote,
    article_publish,
    article_retire,
    article_unretire,
)
from .corrections import answer_correct, correction_reverse
from .index import (
    search_outbox_pending,
    search_sync,
    thread_changed_schedule_index,
    threads_imported_schedule_index,
)
from .review import (
    answer_hidden_send_to_review,
    answer_score_changed_check,
    article_review_keep,
    article_review_reapprove,
    articles_recheck_due,
)
from .sources import article_source_add, question_cover, question_uncover
from .usage import article_record_usage
from .validation import (
    answer_edited_mark_stale,
    answer_validate,
    certification_lapse_process,
    certification_lapses_process,
    validation_revoke,
)

__all__ = [
    "answer_correct",
    "answer_edited_mark_stale",
    "answer_hidden_send_to_review",
    "answer_score_changed_check",
    "answer_validate",
    "article_create",
    "article_edit",
    "article_mark_needs_review",
    "article_promote",
    "article_publish",
    "article_record_usage",
    "article_retire",
    "article_review_keep",
    "article_review_reapprove",
    "article_source_add",
    "article_unretire",
    "articles_recheck_due",
    "certification_lapse_process",
    "certification_lapses_process",
    "correction_reverse",
    "question_cover",
    "question_uncover",
    "search_outbox_pending",
    "search_sync",
    "thread_changed_schedule_index",
    "threads_imported_schedule_index",
    "validation_revoke",
]
