"""Events community announces so that knowledge and moderation can react without community
importing them (dependencies point moderation → knowledge → community).

Receivers run synchronously inside the sender's transaction; anything leaving the database must be
scheduled with ``transaction.on_commit`` by the receiver.
"""

from django.dispatch import Signal

# sender=Answer, answer=Answer, revision=AnswerRevision, editor=User
answer_edited = Signal()
# sender=Question, question_id=int — a thread's searchable content changed (new/edited post, acceptance).
thread_changed = Signal()
# sender=Question, question_ids=list[int] — many threads were bulk-imported (Stack Exchange importer);
# receivers should schedule them in one go rather than one thread_changed each.
threads_imported = Signal()
# sender=Answer, answer=Answer, score=int, previous_score=int — votes moved an answer's score
# (knowledge sends articles to review when a source answer drops below a threshold).
answer_score_changed = Signal()
# sender=Certification, certification=Certification, cause="revoked"|"expired" — a member's
# expert certification ended; validations made under it need another look.
certification_ended = Signal()
# sender=DirectedQuestion, directed_id=int — a question landed in a person's queue (asked or
# forwarded to them); notifications react to it.
question_directed = Signal()
# sender=Question|Answer, post=Question|Answer, status=str (PostStatus), previous=str, actor=User|None
# — moderation changed who can see a post (hidden, restored, approved); knowledge sends articles
# whose source answer was hidden to review.
post_visibility_changed = Signal()
# sender=Flag, flag_id=int, reporter_id=int, outcome="dismissed"|"actioned", action=str — a
# moderator resolved a member's flag; notifications tell the reporter the outcome.
flag_resolved = Signal()
# sender=Question, question_id=int — a question was posted; moderation's protocols assign it on
# commit (the new-question trigger).
question_created = Signal()
# sender=Flag, flag_id=int, question_id=int, reason=str — a member flagged a post (protocols react
# to "needs_staff"; question_id is the thread the post belongs to).
post_flagged = Signal()
