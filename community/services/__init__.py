"""Every community write. Each function checks permission, runs in a transaction, writes audit
entries for privileged actions and announces events for other apps.

One module per topic; callers import this package (``from community import services``):
``posts`` (questions, answers, comments, edits, acceptance, the urgent mark), ``votes``,
``moderation`` (hide/restore/approve, lock, move, merge, sanctions), ``members`` (profile,
certifications); private helpers shared between them live in ``_common``.
"""

from ._common import tags_get_or_create
from .members import (
    AVATAR_CONTENT_TYPES,
    certification_grant,
    certification_revoke,
    profile_update,
)
from .moderation import (
    SANCTION_MAX_DAYS,
    member_sanction,
    post_approve,
    post_hide,
    post_restore,
    question_lock,
    question_merge,
    question_move,
    question_unlock,
)
from .posts import (
    MAX_TAGS,
    answer_accept,
    answer_create,
    answer_edit,
    answer_set_validated,
    answer_unaccept,
    comment_create,
    count_links,
    normalize_tag_names,
    question_create,
    question_edit,
    question_set_urgent,
)
from .votes import vote_cast

__all__ = [
    "AVATAR_CONTENT_TYPES",
    "MAX_TAGS",
    "SANCTION_MAX_DAYS",
    "answer_accept",
    "answer_create",
    "answer_edit",
    "answer_set_validated",
    "answer_unaccept",
    "certification_grant",
    "certification_revoke",
    "comment_create",
    "count_links",
    "member_sanction",
    "normalize_tag_names",
    "post_approve",
    "post_hide",
    "post_restore",
    "profile_update",
    "question_create",
    "question_edit",
    "question_lock",
    "question_merge",
    "question_move",
    "question_set_urgent",
    "question_unlock",
    "tags_get_or_create",
    "vote_cast",
]
