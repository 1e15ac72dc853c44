"""Notifications: the in-app inbox, email (instant or daily digest), preferences, follows and
one-click unsubscribe.

Other apps call the ``notify_*`` services re-exported here (``from community import
notifications``); community's own services call them inside their transactions. Rows are written in
the caller's transaction; email leaves only after commit, through ``community.tasks``.
"""

from .email import notification_email_send, notifications_send_digests
from .services import (
    notification_mark_all_read,
    notification_mark_read,
    notification_preferences_set,
    notification_unsubscribe,
    notify,
    notify_answer_accepted,
    notify_answer_created,
    notify_answer_validated,
    notify_assignment,
    notify_certification_granted,
    notify_certification_renewed,
    notify_certification_revoked,
    notify_certifications_expiring,
    notify_comment_created,
    notify_expert_application_reviewed,
    notify_flag_outcome,
    notify_question_created,
    subscription_follow,
    subscription_unfollow,
)
from .tokens import read_unsubscribe_token, unsubscribe_token

__all__ = [
    "notification_email_send",
    "notification_mark_all_read",
    "notification_mark_read",
    "notification_preferences_set",
    "notification_unsubscribe",
    "notifications_send_digests",
    "notify",
    "notify_answer_accepted",
    "notify_answer_created",
    "notify_answer_validated",
    "notify_assignment",
    "notify_certification_granted",
    "notify_certification_renewed",
    "notify_certification_revoked",
    "notify_certifications_expiring",
    "notify_comment_created",
    "notify_expert_application_reviewed",
    "notify_flag_outcome",
    "notify_question_created",
    "read_unsubscribe_token",
    "subscription_follow",
    "subscription_unfollow",
    "unsubscribe_token",
]
