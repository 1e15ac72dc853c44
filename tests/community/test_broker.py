"""A broker that failed once is skipped for a while: requests do not each wait out its timeout."""

import time

import pytest

from community import broker
from knowledge import indexing, tasks
from knowledge.models import SearchIndexOutbox


class FakeTask:
    name = "tests.fake_task"

    def __init__(self):
        self.attempts = 0
        self.down = True

    def delay(self, *args, **kwargs):
        self.attempts += 1
        if self.down:
            raise ConnectionError("broker unreachable")


def test_publish_reports_a_failure_instead_of_raising_and_then_skips_the_broker():
    task = FakeTask()

    assert broker.publish(task, 1) is False
    assert broker.publish(task, 2) is False
    assert broker.publish(task, 3) is False

    assert task.attempts == 1
    assert broker.broker_marked_down()


def test_the_broker_is_tried_again_once_the_retry_window_has_passed():
    task = FakeTask()
    broker.publish(task, 1)
    window = broker._down_until - time.monotonic()
    assert broker.RETRY_AFTER_S - 5 < window <= broker.RETRY_AFTER_S
    task.down = False

    broker._down_until = time.monotonic() - 0.001  # the window has passed

    assert broker.publish(task, 2) is True
    assert broker.publish(task, 3) is True
    assert task.attempts == 3


@pytest.mark.django_db
def test_index_changes_committed_while_the_broker_is_down_wait_in_the_outbox(
    monkeypatch, django_capture_on_commit_callbacks
):
    task = FakeTask()
    monkeypatch.setattr(tasks.search_sync_task, "delay", task.delay)

    for doc_id in ("question:1", "question:2", "question:3"):
        with django_capture_on_commit_callbacks(execute=True):
            indexing.schedule_index([doc_id])

    assert task.attempts == 1
    assert set(SearchIndexOutbox.objects.values_list("doc_id", flat=True)) == {
        "question:1",
        "question:2",
        "question:3",
    }
