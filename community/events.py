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
