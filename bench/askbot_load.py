"""Load threads exported by generate.py into Askbot through Askbot's own models.

Runs inside Askbot's virtualenv and project, started by askbot.py as
``<askbot-venv>/bin/python manage.py shell -c "exec(open('bench/askbot_load.py').read())"`` with
BENCH_EXPORT naming the JSON file. Askbot's ``user.post_question`` / ``post_answer`` /
``accept_best_answer`` do what its web forms do (Markdown rendering, thread caches, reputation).
Prints one JSON line: ``ASKBOT {"question_ids": {peerdesk id: askbot id}, ...}``.
"""

import datetime as dt
import json
import os
import time

from askbot.models import Thread
from askbot.models import signals as askbot_signals
from askbot.models.badges import award_badges_signal
from django.contrib.auth.models import User
from django.db import transaction

# Loading, not serving: skip per-post activity records, e-mail notifications and badge checks
# (with them a load of 12,000 posts takes hours). The pages load.py requests read none of them.
askbot_signals.post_updated.disconnect(dispatch_uid="record_post_update_activity")
award_badges_signal.receivers.clear()
# Each post re-renders its thread's cached list summary; render it once per thread instead.
_reset_cached_data = Thread.reset_cached_data
Thread.reset_cached_data = lambda self: None

data = json.load(open(os.environ["BENCH_EXPORT"]))  # noqa: SIM115
users: dict = {}
ids: dict = {}
urls: dict = {}
started = time.perf_counter()


def bench_user(name):
    if name not in users:
        user = User.objects.filter(username=name).first()
        if user is None:
            user = User.objects.create_user(name, f"{name}@bench.example")
        # Enough reputation that no posting or accepting threshold gets in the way.
        user.reputation = 100000
        user.save()
        users[name] = user
    return users[name]


def askbot_tags(slugs):
    # Askbot allows a few tags per question, made of its own tag characters.
    return " ".join(s.replace(".", "-")[:40] for s in slugs[:5]) or "general"


for number, thread in enumerate(data["threads"], 1):
    with transaction.atomic():
        asker = bench_user(thread["author"])
        question = asker.post_question(
            title=thread["title"][:250],
            body_text=thread["body"],
            tags=askbot_tags(thread["tags"]),
            timestamp=dt.datetime.fromisoformat(thread["created_at"]),
        )
        accepted = None
        answered = {thread["author"]}
        for item in thread["answers"]:
            # Askbot allows one answer per member and question (and none to one's own question
            # that soon): a repeated author answers as a stand-in account.
            name = item["author"]
            while name in answered:
                name += "-alt"
            answered.add(name)
            answer = bench_user(name).post_answer(
                question=question,
                body_text=item["body"],
                timestamp=dt.datetime.fromisoformat(item["created_at"]),
            )
            if item["accepted"]:
                accepted = answer
        if accepted is not None:
            asker.accept_best_answer(answer=accepted, force=True)
        question.thread.refresh_from_db()
        _reset_cached_data(question.thread)
        ids[thread["id"]] = question.pk
        urls[thread["id"]] = question.get_absolute_url()
    if number % 250 == 0:
        rate = number / (time.perf_counter() - started)
        print(f"  askbot: {number}/{len(data['threads'])} threads ({rate:.0f}/s)", flush=True)

print(
    "ASKBOT "
    + json.dumps(
        {"question_ids": ids, "urls": urls, "seconds": round(time.perf_counter() - started, 1)}
    ),
    flush=True,
)
