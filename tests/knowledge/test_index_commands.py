"""rebuild_index and verify_index: the operator's tools for a search index that drifted."""

import datetime as dt
import io
import os

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import Article
from knowledge.search import SearchDocument, SearchFilters, get_backend, reset_backend
from knowledge.search.documents import all_doc_ids, document_for
from knowledge.search.whoosh_backend import WhooshBackend
from tests.factories import ArticleFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def run(name, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_rebuild_index_indexes_every_visible_document_and_drops_the_rest():
    article = ArticleFactory(title="Mesh satellite drops at night")
    QuestionFactory.create_batch(3)
    ArticleFactory(status=Article.Status.DRAFT, title="Draft about satellites")
    stray = SearchDocument(
        id="article:999999",
        type="article",
        title="Gone satellite",
        problem="",
        solution="",
        tags=(),
        area="x",
        url="/",
        updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    get_backend().upsert([stray])

    out, err = run("rebuild_index")

    assert set(get_backend().stored_versions()) == all_doc_ids()
    assert (
        len(all_doc_ids()) == 1 + 5
    )  # the visible article, and five threads (three + one per article)
    hits = get_backend().search("satellite").hits
    assert [hit.id for hit in hits if hit.type == "article"] == [f"article:{article.pk}"]
    assert "Indexed 6 documents" in out
    assert "docs/s" in out
    assert "6/6" in err and "100.0%" in err


def test_verify_index_passes_when_the_index_matches_the_database():
    ArticleFactory()
    run("rebuild_index")

    out, _ = run("verify_index")

    assert "matches the database" in out


def _drift():
    """One missing, one stale and one extra document, on top of a correct index."""
    missing, stale = ArticleFactory(), ArticleFactory()
    withdrawn = ArticleFactory()
    run("rebuild_index")
    backend = get_backend()
    backend.delete([f"article:{missing.pk}"])
    old = document_for(f"article:{stale.pk}")
    backend.upsert(
        [SearchDocument(**{**old.__dict__, "updated_at": old.updated_at.replace(year=2020)})]
    )
    Article.objects.filter(pk=withdrawn.pk).update(status=Article.Status.DRAFT)
    return f"article:{missing.pk}", f"article:{stale.pk}", f"article:{withdrawn.pk}"


def test_verify_index_reports_missing_stale_and_extra_documents_and_fails():
    missing, stale, extra = _drift()
    out = io.StringIO()

    with pytest.raises(CommandError, match="drift: 3 documents"):
        call_command("verify_index", stdout=out)

    report = out.getvalue()
    assert f"1 missing from the index: {missing}" in report
    assert f"1 stale (updated_at differs): {stale}" in report
    assert f"1 extra (should not be indexed): {extra}" in report


def test_verify_index_repair_resyncs_the_drifting_documents():
    missing, stale, extra = _drift()

    out, _ = run("verify_index", "--repair")

    assert "Repaired 3 documents" in out
    versions = get_backend().stored_versions()
    assert missing in versions
    assert extra not in versions
    assert versions[stale] == document_for(stale).updated_at
    assert "matches the database" in run("verify_index")[0]


@pytest.fixture
def disk_index(settings, tmp_path):
    """The production backend (an on-disk Whoosh index) instead of the RAM one."""
    settings.PEERDESK_SEARCH = {
        "BACKEND": "knowledge.search.whoosh_backend.WhooshBackend",
        "PATH": str(tmp_path / "index"),
    }
    reset_backend()
    yield tmp_path / "index"
    reset_backend()


def test_get_backend_is_one_long_lived_instance_until_reset(disk_index):
    backend = get_backend()

    assert get_backend() is backend
    assert isinstance(backend, WhooshBackend)
    reset_backend()
    assert get_backend() is not backend


def test_rebuild_index_on_disk_swaps_in_a_complete_index_each_time(disk_index):
    ArticleFactory(title="Mesh satellite drops at night")
    run("rebuild_index")
    first = os.path.realpath(disk_index)
    ArticleFactory(title="Mesh satellite firmware")

    run("rebuild_index")

    assert os.path.realpath(disk_index) != first
    assert not os.path.exists(first)
    assert get_backend().search("satellite", filters=SearchFilters(type="article")).total == 2
    assert "matches the database" in run("verify_index")[0]
