"""One contract for every search backend. A new backend adds a param to the ``backend`` fixture."""

import datetime as dt
import os
import threading
from pathlib import Path

import pytest
from whoosh.index import LockError

from knowledge.search import SearchDocument, SearchFilters
from knowledge.search.base import FACET_SAMPLE
from knowledge.search.whoosh_backend import RamWhooshBackend, WhooshBackend

NOW = dt.datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=dt.UTC)


def make_ram(tmp_path):
    return RamWhooshBackend()


def make_disk(tmp_path):
    return WhooshBackend(str(tmp_path / "index"))


def make_postgres(tmp_path):
    from knowledge.search.postgres_backend import PostgresBackend

    return PostgresBackend()


@pytest.fixture(
    params=[
        pytest.param(make_ram, id="whoosh-ram"),
        pytest.param(make_disk, id="whoosh-disk"),
        # Needs the PostgreSQL of the integration run: deselected by the fast run's
        # `-m 'not integration'`, run by `make test-integration`.
        pytest.param(
            make_postgres, id="postgres", marks=[pytest.mark.integration, pytest.mark.django_db]
        ),
    ]
)
def backend(request, tmp_path):
    instance = request.param(tmp_path)
    yield instance
    instance.close()


def doc(pk, title="Untitled", *, kind="article", **fields):
    defaults = {
        "type": "article" if kind == "article" else "thread",
        "problem": "",
        "solution": "",
        "tags": (),
        "area": "routers",
        "url": f"/{kind}/{pk}/",
        "updated_at": NOW,
    }
    return SearchDocument(id=f"{kind}:{pk}", title=title, **{**defaults, **fields})


def ids(hits):
    return [hit.id for hit in hits]


def test_an_upserted_document_is_found_by_a_word_of_its_body(backend):
    backend.upsert([doc(1, "Reset the router", solution="Hold the button for ten seconds.")])

    results = backend.search("button")

    assert ids(results.hits) == ["article:1"]
    hit = results.hits[0]
    assert (hit.title, hit.url, hit.area, hit.type) == (
        "Reset the router",
        "/article/1/",
        "routers",
        "article",
    )
    assert hit.score > 0


def test_search_matches_stemmed_forms_and_questions_ending_with_a_question_mark(backend):
    backend.upsert([doc(1, "Configuring routers", solution="Open the admin page.")])

    assert ids(backend.search("how do I configure my router?").hits) == ["article:1"]


def test_upserting_the_same_id_replaces_the_document_instead_of_adding_one(backend):
    backend.upsert([doc(1, "Old title about modems")])
    backend.upsert([doc(1, "New title about routers")])

    assert backend.search("modems").total == 0
    results = backend.search("routers")
    assert results.total == 1
    assert results.hits[0].title == "New title about routers"


def test_deleted_documents_disappear_and_unknown_ids_are_ignored(backend):
    backend.upsert([doc(1, "Router lights"), doc(2, "Router cables")])

    backend.delete(["article:1", "article:999", "question:5"])

    assert ids(backend.search("router").hits) == ["article:2"]


def test_a_title_match_outranks_a_match_only_in_the_body(backend):
    backend.upsert(
        [
            doc(1, "Printer offline", problem="My firmware update failed on the printer."),
            doc(2, "Firmware update", problem="How do I install it on the printer?"),
            doc(3, "Printer jams", solution="Install the latest firmware to stop the jams."),
        ]
    )

    assert ids(backend.search("firmware").hits)[0] == "article:2"


def test_filters_restrict_by_area_tag_and_type(backend):
    backend.upsert(
        [
            doc(1, "Router firmware", area="routers", tags=("wifi",)),
            doc(2, "Printer firmware", area="printers", tags=("Drivers",)),
            doc(3, "Router firmware thread", kind="question", type="thread_accepted"),
            doc(4, "Printer firmware thread", kind="question", type="thread", area="printers"),
        ]
    )

    def found(**filters):
        return sorted(ids(backend.search("firmware", filters=SearchFilters(**filters)).hits))

    assert found(area="printers") == ["article:2", "question:4"]
    assert found(tag="drivers") == ["article:2"]
    assert found(tag="DRIVERS") == ["article:2"]
    assert found(type="article") == ["article:1", "article:2"]
    assert found(type="thread_accepted") == ["question:3"]
    assert found(type="thread") == ["question:3", "question:4"]
    assert found(type="thread", area="routers") == ["question:3"]


def test_internal_documents_are_never_returned_to_the_public_audience(backend):
    backend.upsert(
        [
            doc(1, "Router reset for customers"),
            doc(2, "Router reset escalation notes", audience="internal"),
        ]
    )

    public = backend.search("router reset", filters=SearchFilters(audiences=("public",)))
    staff = backend.search("router reset", filters=SearchFilters(audiences=("public", "internal")))
    similar = backend.similar("router reset", filters=SearchFilters(audiences=("public",)))

    assert ids(public.hits) == ["article:1"]
    assert public.total == 1
    assert public.facets["type"] == {"article": 1}
    assert sorted(ids(staff.hits)) == ["article:1", "article:2"]
    assert ids(similar) == ["article:1"]
    assert backend.search("router", filters=SearchFilters(audiences=())).total == 0


def test_pages_split_the_hits_and_total_counts_them_all(backend):
    backend.upsert([doc(i, f"Router question number {i}") for i in range(1, 8)])

    first = backend.search("router", page=1, page_size=3)
    third = backend.search("router", page=3, page_size=3)
    beyond = backend.search("router", page=9, page_size=3)

    assert (first.total, len(first.hits), first.num_pages, first.has_next) == (7, 3, 3, True)
    assert (third.total, len(third.hits), third.has_next, third.has_previous) == (7, 1, False, True)
    assert beyond.hits == []
    seen = [
        i for page in (1, 2, 3) for i in ids(backend.search("router", page=page, page_size=3).hits)
    ]
    assert sorted(seen) == sorted(f"article:{i}" for i in range(1, 8))


def test_facets_count_area_type_and_tag_over_every_match_not_just_the_page(backend):
    backend.upsert(
        [
            doc(1, "Router firmware", area="routers", tags=("wifi", "firmware")),
            doc(2, "Router firmware again", area="routers", tags=("wifi",)),
            doc(3, "Printer firmware", area="printers"),
            doc(4, "Firmware thread", kind="question", type="thread", tags=("firmware",)),
            doc(5, "Unrelated cables", area="cables", tags=("wifi",)),
        ]
    )

    results = backend.search("firmware", page_size=1)

    assert results.total == 4
    assert results.facets == {
        "area": {"routers": 3, "printers": 1},
        "type": {"article": 3, "thread": 1},
        "tag": {"firmware": 2, "wifi": 2},
    }


def test_facets_count_the_best_fifty_matches_while_total_and_pages_cover_every_match(backend):
    # 50 title matches outrank 12 matches in the problem text alone (title weighs most).
    backend.upsert(
        [doc(i, f"Firmware update {i}", area="routers", tags=("wifi",)) for i in range(1, 51)]
        + [
            doc(i, f"Note {i}", problem="mentions firmware once", area="printers")
            for i in range(51, 63)
        ]
    )

    first = backend.search("firmware", page_size=10)
    last = backend.search("firmware", page=7, page_size=10)

    assert FACET_SAMPLE == 50
    assert first.total == last.total == 62
    best_fifty = {"area": {"routers": 50}, "type": {"article": 50}, "tag": {"wifi": 50}}
    assert first.facets == last.facets == best_fifty
    assert all(hit.area == "routers" for hit in first.hits)
    assert sorted(ids(last.hits)) == sorted(f"article:{i}" for i in (61, 62))
    page_six = backend.search("firmware", page=6, page_size=10)
    assert {hit.area for hit in page_six.hits} == {"printers"}


def test_snippets_mark_the_matches_and_escape_all_other_html(backend):
    backend.upsert(
        [
            doc(
                1,
                "Scripted router",
                solution='Paste <script>alert("x")</script> & press the reset button <b>now</b>.',
            )
        ]
    )

    snippet = backend.search("reset").hits[0].snippet

    assert "<mark" in snippet
    assert ">reset</mark>" in snippet
    assert "<script>" not in snippet
    assert "&lt;script&gt;" in snippet
    assert "<b>" not in snippet
    assert "&amp; press" in snippet


def test_a_title_only_match_gets_an_escaped_excerpt_as_snippet(backend):
    backend.upsert([doc(1, "Router reboot", problem="It <img src=x onerror=alert(1)> hangs.")])

    snippet = backend.search("reboot").hits[0].snippet

    assert snippet.startswith("It &lt;img")
    assert "<img" not in snippet


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ('foo:"', True),
        ("AND OR (", False),
        ("reset) (", True),
        ('"unclosed phrase', False),
        ("router^", True),
        ("^2", False),
        ("*", False),
        ("?", False),
        ("NOT", False),
        ("(((", False),
        # These made Whoosh's parser raise (IndexError, AssertionError) or its coordination
        # matcher divide by zero; found by fuzzing. What they match is anyone's guess (None).
        ("NOT OR + ' ANDMAYBE [", False),
        ("OR ANDMAYBE ANDNOT a: \\", False),
        ("AND NOT :   foo ANDNOT foo  ", None),
        ("ANDMAYBE NOT } \\ NOT router", None),
    ],
)
def test_hostile_query_syntax_does_not_raise_and_keeps_the_plain_words(backend, query, finds):
    backend.upsert([doc(1, "Router reset", solution="foo and bar")])

    results = backend.search(query)

    if finds is not None:
        assert ids(results.hits) == (["article:1"] if finds else [])
    assert isinstance(backend.similar(query), list)
    assert isinstance(backend.suggest(query), list)


def test_field_syntax_cannot_reach_internal_fields(backend):
    backend.upsert([doc(1, "Router reset", audience="internal")])

    assert backend.search("audience:internal").total == 0
    assert backend.search("id:article").total == 0


@pytest.mark.parametrize("query", ["", "   ", "the of and", "NOT router"])
def test_an_empty_or_negative_only_query_returns_nothing(backend, query):
    backend.upsert([doc(1, "Router reset"), doc(2, "Printer reset")])

    results = backend.search(query)

    assert (results.total, results.hits) == (0, [])


def test_suggest_corrects_a_typo_with_a_real_word_and_is_silent_when_spelled_right(backend):
    backend.upsert(
        [
            doc(1, "Configure the router", solution="Reconnect the antenna after configuring."),
            doc(2, "Show the hot new mow mode", solution="Now you know."),
        ]
    )

    assert backend.suggest("ruoter")[0] == "router"
    assert backend.suggest("how to confgure router")[0] == "how to configure router"
    assert backend.suggest("antena")[0] == "antenna"
    assert backend.suggest("configuring the router") == []
    assert backend.suggest("how do you confgure it")[0] == "how do you configure it"
    assert backend.suggest("") == []


def test_similar_finds_a_related_document_from_a_typed_question(backend):
    backend.upsert(
        [
            doc(1, "Router light blinks amber", solution="Power-cycle the router."),
            doc(2, "Printer paper jam", solution="Open the rear tray."),
        ]
    )

    hits = backend.similar("Why does the light on my router keep blinking amber?", limit=5)

    assert ids(hits)[0] == "article:1"
    assert "article:2" not in ids(hits)
    assert "<mark" in hits[0].snippet
    assert backend.similar("the and of is", limit=5) == []


def test_similar_respects_filters(backend):
    backend.upsert(
        [
            doc(1, "Router light blinks", area="routers"),
            doc(2, "Printer light blinks", area="printers"),
        ]
    )

    hits = backend.similar("light blinks", filters=SearchFilters(area="printers"))

    assert ids(hits) == ["article:2"]


def test_clear_removes_every_document(backend):
    backend.upsert([doc(1, "Router"), doc(2, "Printer")])

    backend.clear()

    assert backend.search("router").total == 0
    assert backend.stored_versions() == {}


def test_stored_versions_map_each_id_to_its_updated_at(backend):
    later = NOW + dt.timedelta(hours=1, microseconds=7)
    backend.upsert([doc(1, "Router"), doc(2, "Thread", kind="question", updated_at=later)])

    assert backend.stored_versions() == {"article:1": NOW, "question:2": later}


def test_rebuild_replaces_the_whole_index_and_reports_progress(backend):
    backend.upsert([doc(1, "Old router article"), doc(2, "Old printer article")])
    seen = []

    count = backend.rebuild(
        (doc(i, f"Fresh modem article {i}") for i in range(10, 1210)), progress=seen.append
    )

    assert count == 1200
    assert seen == [500, 1000, 1200]
    assert backend.search("old").total == 0
    assert backend.search("modem").total == 1200
    assert len(backend.stored_versions()) == 1200
    backend.upsert([doc(1, "New router article")])
    assert backend.search("router").total == 1


def test_a_failed_rebuild_leaves_the_previous_index_in_place(backend):
    backend.upsert([doc(1, "Router article")])

    def broken():
        yield doc(2, "Half written")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(broken())

    assert ids(backend.search("router").hits) == ["article:1"]
    assert backend.search("half").total == 0


def test_tier_filters_facets_and_hits_follow_the_documents_validation_tier(backend):
    backend.upsert(
        [
            doc(1, "Router firmware", tier=3),
            doc(2, "Router firmware again", tier=3),
            doc(3, "Router firmware accepted", kind="question", type="thread_accepted", tier=1),
            doc(4, "Router firmware unverified", kind="question"),
        ]
    )

    results = backend.search("firmware")
    validated = backend.search("firmware", filters=SearchFilters(tier="validated_expert"))

    assert results.facets["tier"] == {"validated_expert": 2, "accepted": 1}
    assert sorted(ids(validated.hits)) == ["article:1", "article:2"]
    assert {hit.id: hit.tier_name for hit in results.hits}["question:4"] == "unverified"
    assert backend.search("firmware", filters=SearchFilters(tier="bogus")).total == 0
    assert "tier" not in backend.search("unverified").facets


def test_a_validated_document_outranks_an_equal_unverified_one(backend, settings):
    settings.PEERDESK_SEARCH_RANKING = {"tier": 0.5, "votes": 0, "usage": 0, "freshness": 0}
    backend.upsert(
        [
            doc(1, "Reset the router", solution="Hold the button."),
            doc(2, "Reset the router", solution="Hold the button.", tier=4),
        ]
    )

    assert ids(backend.search("reset router").hits) == ["article:2", "article:1"]


# --- Whoosh specifics: the on-disk swap, long-lived searchers across processes, the write lock.


def test_the_disk_rebuild_swaps_a_symlink_and_removes_the_old_directory(tmp_path):
    live = tmp_path / "index"
    backend = WhooshBackend(str(live))
    backend.upsert([doc(1, "Router article")])
    first_dir = Path(os.path.realpath(live))

    backend.rebuild([doc(2, "Modem article")])

    assert live.is_symlink()
    second_dir = Path(os.path.realpath(live))
    assert second_dir != first_dir
    assert not first_dir.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["index", second_dir.name])
    assert ids(backend.search("modem").hits) == ["article:2"]


def test_another_process_sees_writes_and_rebuilds_without_reopening(tmp_path):
    path = str(tmp_path / "index")
    web, worker = WhooshBackend(path), WhooshBackend(path)
    web.upsert([doc(1, "Router article")])
    assert web.search("router").total == 1  # the web process now holds a searcher

    worker.upsert([doc(2, "Router cable article")])
    assert web.search("router").total == 2

    worker.rebuild([doc(3, "Modem article")])
    assert web.search("router").total == 0
    assert ids(web.search("modem").hits) == ["article:3"]
    web.upsert([doc(4, "Modem cable article")])
    assert worker.search("modem").total == 2


def test_a_plain_directory_index_is_migrated_by_the_first_rebuild(tmp_path):
    from whoosh.filedb.filestore import FileStorage

    from knowledge.search.whoosh_backend import build_schema

    live = tmp_path / "index"
    live.mkdir()
    FileStorage(str(live)).create_index(build_schema())
    backend = WhooshBackend(str(live))
    backend.upsert([doc(1, "Router article")])
    assert backend.search("router").total == 1

    backend.rebuild([doc(2, "Modem article")])

    assert live.is_symlink()
    assert ids(backend.search("modem").hits) == ["article:2"]
    assert len(list(tmp_path.iterdir())) == 2


def test_a_held_writer_lock_makes_writes_raise_lock_error_for_the_task_to_retry(tmp_path):
    path = str(tmp_path / "index")
    holder = WhooshBackend(path)
    writer = holder._index().writer()
    try:
        impatient = WhooshBackend(path, lock_timeout=0.05)
        with pytest.raises(LockError):
            impatient.upsert([doc(1, "Router")])
        with pytest.raises(LockError):
            impatient.rebuild([doc(1, "Router")])
    finally:
        writer.cancel()
    impatient.upsert([doc(1, "Router")])
    assert impatient.search("router").total == 1


def test_concurrent_searches_from_threads_share_one_backend(tmp_path):
    backend = WhooshBackend(str(tmp_path / "index"))
    backend.upsert([doc(i, f"Router article {i}") for i in range(20)])
    errors, totals = [], []

    def search_many():
        try:
            for _ in range(20):
                totals.append(backend.search("router").total)
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=search_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    backend.upsert([doc(99, "Router late article")])
    for thread in threads:
        thread.join()

    assert errors == []
    assert set(totals) <= {20, 21}
    assert backend.search("router").total == 21


# --- PostgreSQL specifics: web-search syntax, the migration's indexes, no pg_trgm.

postgres_only = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def pg_backend():
    from knowledge.search.postgres_backend import PostgresBackend

    return PostgresBackend()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"reset the router"', ["article:1"]),
        ("router -reset", ["article:2"]),
        ("router NOT reset", ["article:2"]),
        ("modem OR lights", ["article:2", "article:3"]),
    ],
)
@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_reads_web_search_syntax(pg_backend, query, expected):
    pg_backend.upsert(
        [
            doc(1, "Reset the router", solution="Hold the button."),
            doc(2, "Router lights", solution="Amber means no signal."),
            doc(3, "Modem setup", solution="Plug it in, then reset your old router."),
        ]
    )

    assert sorted(ids(pg_backend.search(query).hits)) == expected


@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_search_uses_the_gin_index_and_suggest_has_its_trigram_index(pg_backend):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('knowledge_searchentry', 'knowledge_searchterm')"
        )
        indexes = dict(cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")  # the table is tiny: show it can
        cursor.execute(
            "EXPLAIN SELECT doc_id FROM knowledge_searchentry "
            "WHERE vector @@ websearch_to_tsquery('english', 'router')"
        )
        plan = " ".join(row[0] for row in cursor.fetchall())

    assert "USING gin (vector)" in indexes["search_entry_vector_gin"]
    assert "gin_trgm_ops" in indexes["search_term_word_trgm"]
    assert "search_entry_vector_gin" in plan


@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_without_pg_trgm_suggests_nothing_instead_of_failing(pg_backend):
    pg_backend.upsert([doc(1, "Configure the router")])
    pg_backend._has_trigram = False  # as on a server where the extension may not be created

    assert pg_backend.suggest("ruoter") == []
    assert ids(pg_backend.search("router").hits) == ["article:1"]


@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_snippets_stay_escaped_around_entities_and_long_texts(pg_backend):
    filler = "padding words here " * 800  # past the headline window
    pg_backend.upsert(
        [
            doc(1, "AT&T modem", solution="Use <AT&T> settings &amp; reset <i>it</i>."),
            doc(2, "Long thread", solution=f"Start <u>here</u>. {filler} antenna at the end"),
        ]
    )

    first = pg_backend.search("reset").hits[0].snippet
    second = pg_backend.search("antenna").hits[0].snippet

    assert first.startswith("Use &lt;AT&amp;T&gt; settings &amp;amp; <mark>reset</mark>")
    assert "<i>" not in first
    assert second.startswith("Start &lt;u&gt;here&lt;/u&gt;.")
    assert second.endswith(" …")
    assert "<u>" not in second


@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_serves_a_repeated_search_from_its_cache_until_another_node_writes(pg_backend):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from knowledge.search.postgres_backend import PostgresBackend

    other_node = PostgresBackend()  # a second web node or a worker: same table, its own cache
    other_node.upsert([doc(1, "Router lights", solution="Amber means no signal.")])
    assert ids(pg_backend.search("router").hits) == ["article:1"]

    with CaptureQueriesContext(connection) as repeat:
        again = pg_backend.search("router ")
    assert ids(again.hits) == ["article:1"] and again.query == "router "
    assert len(repeat.captured_queries) == 1  # the generation, not the ranking
    assert "knowledge_searchgeneration" in repeat.captured_queries[0]["sql"]

    assert ids(pg_backend.similar("router lights amber")) == ["article:1"]

    other_node.upsert([doc(2, "Router reset", solution="Hold the button.")])
    assert ids(pg_backend.similar("router lights amber")) == ["article:1", "article:2"]
    assert sorted(ids(pg_backend.search("router").hits)) == ["article:1", "article:2"]
    other_node.delete(["article:1"])
    assert ids(pg_backend.search("router").hits) == ["article:2"]
    other_node.rebuild([doc(3, "Router firmware")])
    assert ids(pg_backend.search("router").hits) == ["article:3"]
    other_node.clear()
    assert pg_backend.search("router").total == 0


@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_shares_cached_results_between_texts_that_parse_the_same(pg_backend):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pg_backend.upsert([doc(1, "Brewing a stout"), doc(2, "Router lights")])
    assert ids(pg_backend.search("How can I brew?").hits) == ["article:1"]

    with CaptureQueriesContext(connection) as ran:
        again = pg_backend.search("brewing")  # the same lexeme once stop words are gone
        nothing = pg_backend.search("How can I")  # stop words only: nothing to rank
    assert ids(again.hits) == ["article:1"] and again.query == "brewing"
    assert nothing.total == 0
    assert len(ran.captured_queries) == 2  # one state read each, no ranking


def _reads(captured):
    """The statements that read the index: not the savepoints and the time limit around them."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if "SAVEPOINT" not in q["sql"] and "statement_timeout" not in q["sql"]
    ]


@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_caches_nothing_while_the_generation_is_unknown(pg_backend):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pg_backend.upsert([doc(1, "Router lights")])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM knowledge_searchgeneration")  # as `manage.py flush` does
    for _ in range(2):
        with CaptureQueriesContext(connection) as ran:
            assert ids(pg_backend.search("router").hits) == ["article:1"]
        assert len(_reads(ran)) == 2  # the generation, then the ranking, each time

    pg_backend.upsert([doc(2, "Router reset")])
    with CaptureQueriesContext(connection) as ran:
        pg_backend.search("router")
        pg_backend.search("router")
    assert len(_reads(ran)) == 3  # cached again once a write renewed the generation


@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_caches_did_you_mean_until_another_node_writes(pg_backend):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from knowledge.search.postgres_backend import PostgresBackend

    other_node = PostgresBackend()
    other_node.upsert([doc(1, "Router lights", solution="Amber means no signal.")])
    assert pg_backend.suggest("ruoter lights") == ["router lights"]

    with CaptureQueriesContext(connection) as repeat:
        assert pg_backend.suggest("ruoter lights") == ["router lights"]
    assert not [q for q in repeat.captured_queries if "similarity(" in q["sql"]]

    other_node.upsert([doc(2, "Ruoter, the brand", solution="Ruoter routers ship in red.")])
    assert pg_backend.suggest("ruoter lights") == []


@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_similar_lets_common_words_rank_but_not_select(pg_backend, monkeypatch):
    from django.db import connection

    from knowledge.search import postgres_backend

    monkeypatch.setattr(postgres_backend, "COMMON_TERMS_MIN_DOCS", 1)  # as a large table
    notes = [doc(pk, f"Router note {pk}", solution="Lights and cables.") for pk in range(10, 70)]
    pg_backend.upsert(
        [
            *notes,
            doc(1, "Router firmware rollback", solution="Flash the previous image."),
            doc(2, "Firmware rollback guide", solution="Keep the old image."),
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_searchentry")  # the statistics autovacuum keeps

    # "router" is in 61 of 62 documents: it ranks the two that share the rare words, and no
    # note that shares only it is suggested.
    assert ids(pg_backend.similar("router firmware rollback")) == ["article:1", "article:2"]
    # Only common words, or rare ones no document has: the rarest common words select.
    assert len(pg_backend.similar("router", limit=5)) == 5
    assert len(pg_backend.similar("router zzyzxq", limit=5)) == 5


@pytest.mark.integration
@pytest.mark.django_db
def test_postgres_never_serves_results_of_a_rolled_back_write(pg_backend):
    from django.db import transaction

    from knowledge.search.postgres_backend import PostgresBackend

    other_node = PostgresBackend()
    other_node.upsert([doc(1, "Router lights")])
    assert ids(pg_backend.search("router").hits) == ["article:1"]

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        other_node.upsert([doc(2, "Router reset")])
        # Seen inside the write's own transaction, and cached under its generation.
        assert sorted(ids(pg_backend.search("router").hits)) == ["article:1", "article:2"]
        raise Abort
    # The next write must not get the rolled-back write's generation back.
    other_node.upsert([doc(3, "Router firmware")])

    assert sorted(ids(pg_backend.search("router").hits)) == ["article:1", "article:3"]


# --- Trust signals in the ranking, the tier facet and filter (issue 3): every backend. ----------

RANKING = {
    "tier": 0.15,
    "votes": 0.05,
    "freshness": 0.2,
    "freshness_half_life_days": 365,
    "usage": 0.1,
}


def test_a_validated_article_outranks_a_thread_with_the_same_text(backend, settings):
    settings.PEERDESK_SEARCH_RANKING = RANKING
    same = {"problem": "It restarts every night.", "solution": "Update the firmware."}
    backend.upsert(
        [
            doc(1, "Router resets overnight", kind="question", **same),
            doc(2, "Router resets overnight", tier=3, **same),
        ]
    )

    assert ids(backend.search("router resets").hits) == ["article:2", "question:1"]


def test_a_fresher_document_wins_a_tie(backend, settings):
    settings.PEERDESK_SEARCH_RANKING = RANKING
    backend.upsert(
        [
            doc(1, "Printer offline", solution="Restart the spooler.", updated_at=NOW - YEARS_2),
            doc(2, "Printer offline", solution="Restart the spooler.", updated_at=NOW),
        ]
    )

    assert ids(backend.search("printer offline").hits) == ["article:2", "article:1"]


YEARS_2 = dt.timedelta(days=730)


def test_votes_and_usage_each_lift_a_document_over_its_equal(backend, settings):
    settings.PEERDESK_SEARCH_RANKING = RANKING
    backend.upsert(
        [
            doc(1, "Modem drops wifi"),
            doc(2, "Modem drops wifi", votes=40),
            doc(3, "Modem drops wifi", votes=-40),
        ]
    )
    assert ids(backend.search("modem wifi").hits)[0] == "article:2"

    backend.upsert([doc(3, "Modem drops wifi", usage=200)])
    assert ids(backend.search("modem wifi").hits)[0] == "article:3"


def test_ranking_weights_come_from_settings_at_query_time(backend, settings):
    backend.upsert(
        [doc(1, "Router resets", tier=4), doc(2, "Router resets", kind="question", votes=500)]
    )

    settings.PEERDESK_SEARCH_RANKING = {**RANKING, "tier": 0.0, "votes": 0.5}
    assert ids(backend.search("router resets").hits)[0] == "question:2"

    settings.PEERDESK_SEARCH_RANKING = {**RANKING, "tier": 0.5, "votes": 0.0}
    assert ids(backend.search("router resets").hits)[0] == "article:1"

    settings.PEERDESK_SEARCH_RANKING = dict.fromkeys(RANKING, 0)
    scores = {hit.id: hit.score for hit in backend.search("router resets").hits}
    assert scores["article:1"] == pytest.approx(scores["question:2"])


def test_the_tier_facet_counts_verified_tiers_and_the_tier_filter_selects_one(backend):
    backend.upsert(
        [
            doc(1, "Cable firmware"),
            doc(2, "Cable firmware again", kind="question", type="thread_accepted", tier=1),
            doc(3, "Firmware for cables", tier=3),
            doc(4, "Firmware cable notes", tier=3),
            doc(5, "Firmware cable by staff", tier=4),
            doc(6, "Unrelated printer", tier=4),
        ]
    )

    results = backend.search("firmware")
    expert = backend.search("firmware", filters=SearchFilters(tier="validated_expert"))

    assert results.facets["tier"] == {"validated_expert": 2, "accepted": 1, "validated_staff": 1}
    assert sorted(ids(expert.hits)) == ["article:3", "article:4"]
    assert {hit.id: hit.tier for hit in results.hits}["article:5"] == 4
    assert backend.search("firmware", filters=SearchFilters(tier="bogus")).total == 0
    assert "tier" not in backend.search("cable", filters=SearchFilters(tier=None, area="x")).facets
