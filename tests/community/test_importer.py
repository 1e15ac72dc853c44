import io
from html.parser import HTMLParser
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from community import events
from community.importer import DumpError, import_stackexchange_dump
from community.markdown import render_markdown
from community.models import (
    Answer,
    AnswerRevision,
    ProductArea,
    Question,
    QuestionRevision,
    Tag,
    User,
)

pytestmark = pytest.mark.django_db

IOT_DUMP = Path(settings.BASE_DIR).parent / "shared" / "data" / "iot.stackexchange.com"
needs_iot_dump = pytest.mark.skipif(
    not (IOT_DUMP / "Posts.xml").is_file(),
    reason=f"the IoT Stack Exchange dump is not at {IOT_DUMP} (CI keeps ../shared/data beside the checkout)",
)


class _UnsafeFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "iframe", "object", "embed", "form"}:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag}[{name}]")
            if name in {"href", "src"} and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag}[{name}={value}]")


def unsafe_markup(html: str) -> list[str]:
    """Dangerous elements and attributes actually present as markup (not as escaped text)."""
    finder = _UnsafeFinder()
    finder.feed(html)
    return finder.found


@pytest.fixture
def announced():
    """Question ids sent in ``threads_imported``, one list per signal."""
    calls: list[list[int]] = []

    def receiver(sender, *, question_ids, **kwargs):
        calls.append(question_ids)

    events.threads_imported.connect(receiver)
    yield calls
    events.threads_imported.disconnect(receiver)


def write_dump(root: Path, posts: list[dict], users: list[dict] = (), votes: list[dict] = ()):
    """A minimal dump in ``root`` named like a site, so the host is inferred from it."""
    dump = root / "example.stackexchange.com"
    dump.mkdir(exist_ok=True)
    for name, tag, rows in (("Posts", "posts", posts), ("Users", "users", users)) + (
        (("Votes", "votes", votes),) if votes else ()
    ):
        lines = [
            f"<row {' '.join(f'{k}={quoteattr(str(v))}' for k, v in row.items())} />"
            for row in rows
        ]
        (dump / f"{name}.xml").write_text(
            '\ufeff<?xml version="1.0" encoding="utf-8"?>\n'
            f"<{tag}>\n" + "\n".join(lines) + f"\n</{tag}>\n",
            encoding="utf-8",
        )
    return dump


def question_row(post_id=1, **extra):
    return {
        "Id": post_id,
        "PostTypeId": 1,
        "CreationDate": "2017-01-02T03:04:05.678",
        "Score": 3,
        "Body": "<p>How do I pair the <strong>hub</strong>?</p>",
        "OwnerUserId": 7,
        "Title": f"How do I pair the hub? ({post_id})",
        "Tags": "<hub><pairing>",
        "AnswerCount": 0,
        **extra,
    }


def answer_row(post_id, parent_id, **extra):
    return {
        "Id": post_id,
        "PostTypeId": 2,
        "ParentId": parent_id,
        "CreationDate": "2017-01-03T03:04:05.678",
        "Score": 1,
        "Body": "<p>Hold the button for ten seconds.</p>",
        "OwnerUserId": 7,
        **extra,
    }


USER = {"Id": 7, "DisplayName": "Ada", "CreationDate": "2016-12-01T00:00:00.000"}


# --- The real IoT dump ----------------------------------------------------------------------


@needs_iot_dump
def test_importing_the_iot_dump_creates_its_questions_answers_and_accepted_answers(announced):
    progress = []
    summary = import_stackexchange_dump(
        dump_dir=IOT_DUMP,
        area_slug="iot",
        progress=lambda done, total: progress.append((done, total)),
    )

    # The figures the data README gives for this dump.
    assert (Question.objects.count(), Answer.objects.count()) == (320, 508)
    assert Question.objects.filter(accepted_answer__isnull=False).count() == 185
    assert Tag.objects.count() == 199
    assert (summary.questions_created, summary.answers_created, summary.accepted) == (320, 508, 185)
    assert summary.votes_up > summary.votes_down > 0
    assert progress[-1] == (828, 828)
    assert sorted(announced[0]) == sorted(Question.objects.values_list("pk", flat=True))

    area = ProductArea.objects.get(slug="iot")
    assert set(Question.objects.values_list("area", flat=True)) == {area.pk}

    first = Question.objects.get(source_url="https://iot.stackexchange.com/q/1")
    assert first.title == "How can I properly test my device's PCB antenna?"
    assert sorted(first.tags.values_list("slug", flat=True)) == [
        "antenna",
        "hardware",
        "testing",
        "zwave",
    ]
    assert first.score == 19
    assert first.answer_count == 3 == first.answers.count()
    assert first.created_at.isoformat() == "2016-12-06T17:10:44.557000+00:00"
    assert first.source_author_name == "Dom"
    assert first.source_author_url == "https://iot.stackexchange.com/users/4"
    assert first.author.source_url == "https://iot.stackexchange.com/users/4"
    assert first.author.username == "se-iot-4"
    assert "Z-Wave" in first.body and "<p>" not in first.body  # Markdown for later edits

    accepted = Question.objects.get(source_url="https://iot.stackexchange.com/q/7").accepted_answer
    assert accepted.source_url == "https://iot.stackexchange.com/a/12"
    assert accepted.source_author_url == "https://iot.stackexchange.com/users/39"

    orphan = Question.objects.get(source_url="https://iot.stackexchange.com/q/201")
    assert orphan.source_author_name == "user254"
    assert orphan.author.display_name == "Deleted user"

    authors = User.objects.filter(pk__in=Question.objects.values("author"))
    assert authors.exists()
    assert not User.objects.filter(is_placeholder=False).exists()
    assert not User.objects.filter(is_active=True).exists()
    assert not any(user.has_usable_password() for user in User.objects.all())

    assert QuestionRevision.objects.filter(number=1).count() == 320
    assert AnswerRevision.objects.filter(number=1).count() == 508
    stored_html = [
        *Question.objects.values_list("body_html", flat=True),
        *Answer.objects.values_list("body_html", flat=True),
    ]
    assert all(unsafe_markup(html) == [] for html in stored_html)


@needs_iot_dump
def test_importing_the_iot_dump_twice_changes_nothing_and_duplicates_nothing(announced):
    import_stackexchange_dump(dump_dir=IOT_DUMP, area_slug="iot")
    before = [
        m.objects.count()
        for m in (Question, Answer, User, Tag, QuestionRevision, AnswerRevision, ProductArea)
    ]

    summary = import_stackexchange_dump(dump_dir=IOT_DUMP, area_slug="iot")

    after = [
        m.objects.count()
        for m in (Question, Answer, User, Tag, QuestionRevision, AnswerRevision, ProductArea)
    ]
    assert after == before
    assert (summary.questions_created, summary.answers_created, summary.users_created) == (0, 0, 0)
    assert (summary.questions_updated, summary.answers_updated, summary.unchanged) == (0, 0, 828)
    assert summary.accepted == 185
    assert Question.objects.filter(accepted_answer__isnull=False).count() == 185
    assert len(announced) == 1  # only the first run changed threads


# --- Refusals -------------------------------------------------------------------------------


def test_a_missing_dump_directory_is_refused(tmp_path):
    with pytest.raises(DumpError, match="does not exist"):
        import_stackexchange_dump(dump_dir=tmp_path / "nowhere.stackexchange.com", area_slug="x")


def test_a_dump_without_posts_xml_or_users_xml_is_refused(tmp_path):
    dump = write_dump(tmp_path, [question_row()], [USER])
    (dump / "Users.xml").unlink()
    with pytest.raises(DumpError, match=r"Users\.xml is missing"):
        import_stackexchange_dump(dump_dir=dump, area_slug="x")
    (dump / "Posts.xml").unlink()
    with pytest.raises(DumpError, match=r"Posts\.xml is missing"):
        import_stackexchange_dump(dump_dir=dump, area_slug="x")


def test_malformed_xml_is_reported_with_the_file_and_line_and_nothing_is_written(tmp_path):
    dump = write_dump(tmp_path, [question_row()], [USER])
    (dump / "Users.xml").write_text('<?xml version="1.0"?>\n<users>\n  <row Id="7" <oops\n</users>')

    with pytest.raises(DumpError, match=r"Users\.xml is malformed XML at line 3"):
        import_stackexchange_dump(dump_dir=dump, area_slug="x")
    assert not Question.objects.exists()
    assert not ProductArea.objects.exists()


def test_a_dump_declaring_a_doctype_is_refused_before_parsing(tmp_path):
    dump = write_dump(tmp_path, [question_row()], [USER])
    (dump / "Posts.xml").write_text(
        '<?xml version="1.0"?>\n<!-- padding -->\n'
        '<!DOCTYPE posts [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        '<posts><row Id="1" PostTypeId="1" Body="&b;" /></posts>'
    )
    with pytest.raises(DumpError, match=r"Posts\.xml declares a DTD"):
        import_stackexchange_dump(dump_dir=dump, area_slug="x")


def test_a_utf16_file_is_refused_so_a_dtd_cannot_hide_in_it(tmp_path):
    dump = write_dump(tmp_path, [question_row()], [USER])
    (dump / "Posts.xml").write_text("<!DOCTYPE posts []><posts></posts>", encoding="utf-16")
    with pytest.raises(DumpError, match="not UTF-8"):
        import_stackexchange_dump(dump_dir=dump, area_slug="x")


def test_a_directory_not_named_after_a_site_needs_the_site_option(tmp_path):
    dump = write_dump(tmp_path, [question_row()], [USER]).rename(tmp_path / "dump")
    with pytest.raises(DumpError, match="pass --site"):
        import_stackexchange_dump(dump_dir=dump, area_slug="x")

    import_stackexchange_dump(dump_dir=dump, area_slug="x", site="https://Beer.StackExchange.com/")
    assert Question.objects.get().source_url == "https://beer.stackexchange.com/q/1"
    assert User.objects.get(source_url__endswith="/users/7").username == "se-beer-7"


# --- Content rules --------------------------------------------------------------------------


def test_hostile_html_in_a_post_is_sanitized_and_its_markdown_renders_safely(tmp_path):
    hostile = (
        "<p>Hi<script>alert(1)</script></p>"
        '<img src="x.png" onerror="alert(2)">'
        '<a href="javascript:alert(3)" onclick="alert(4)">click</a>'
        '<p style="color:red" onmouseover="alert(5)">text</p>'
    )
    dump = write_dump(
        tmp_path, [question_row(Body=hostile), answer_row(2, 1, Body=hostile)], [USER]
    )
    import_stackexchange_dump(dump_dir=dump, area_slug="x")

    assert len(unsafe_markup(hostile)) == 6  # the check below can see what it looks for
    for post in (Question.objects.get(), Answer.objects.get()):
        assert unsafe_markup(post.body_html) == []
        assert "javascript:" not in post.body_html + post.body
        assert unsafe_markup(render_markdown(post.body)) == []
        assert 'src="x.png"' in post.body_html and "click" in post.body_html


def test_a_question_keeps_every_tag_even_beyond_the_five_tag_limit(tmp_path):
    tags = "<zigbee><z-wave><Hub><mqtt><security><wifi><industry-4.0>"
    import_stackexchange_dump(
        dump_dir=write_dump(tmp_path, [question_row(Tags=tags)], [USER]), area_slug="x"
    )
    question = Question.objects.get()
    assert sorted(question.tags.values_list("slug", flat=True)) == sorted(
        ["zigbee", "z-wave", "hub", "mqtt", "security", "wifi", "industry-40"]
    )
    assert question.revisions.get().tag_names.split() == [
        "zigbee",
        "z-wave",
        "hub",
        "mqtt",
        "security",
        "wifi",
        "industry-40",
    ]


def test_posts_without_an_owner_share_one_inactive_deleted_user_placeholder(tmp_path):
    posts = [
        question_row(1, OwnerUserId="", OwnerDisplayName="user99"),
        question_row(2, OwnerUserId=""),
        answer_row(3, 1, OwnerUserId=""),
    ]
    for row in posts:
        del row["OwnerUserId"]
    import_stackexchange_dump(dump_dir=write_dump(tmp_path, posts, [USER]), area_slug="x")

    authors = {q.author for q in Question.objects.all()} | {Answer.objects.get().author}
    assert len(authors) == 1
    (placeholder,) = authors
    assert (placeholder.is_active, placeholder.is_placeholder) == (False, True)
    names = dict(Question.objects.values_list("source_url", "source_author_name"))
    assert names == {
        "https://example.stackexchange.com/q/1": "user99",
        "https://example.stackexchange.com/q/2": "Deleted user",
    }
    assert Question.objects.get(source_url__endswith="/q/1").source_author_url == ""


def test_answers_whose_question_is_not_in_the_dump_are_skipped(tmp_path):
    dump = write_dump(tmp_path, [question_row(1), answer_row(2, 1), answer_row(3, 99)], [USER])
    summary = import_stackexchange_dump(dump_dir=dump, area_slug="x")
    assert (summary.answers_created, summary.skipped_answers) == (1, 1)
    assert Question.objects.get().answer_count == 1


def test_a_reimported_answer_whose_text_changed_gets_a_new_revision_and_announces_the_edit(
    tmp_path, announced
):
    posts = [question_row(1, AcceptedAnswerId=2), answer_row(2, 1), answer_row(3, 1)]
    import_stackexchange_dump(dump_dir=write_dump(tmp_path, posts, [USER]), area_slug="x")
    edits = []

    def on_edit(sender, *, answer, revision, editor, **kwargs):
        edits.append((answer.pk, revision.number, editor.username))

    posts[1] = answer_row(2, 1, Body="<p>Hold it for <em>twenty</em> seconds.</p>", Score=5)
    events.answer_edited.connect(on_edit)
    try:
        summary = import_stackexchange_dump(
            dump_dir=write_dump(tmp_path, posts, [USER]), area_slug="x"
        )
    finally:
        events.answer_edited.disconnect(on_edit)

    answer = Answer.objects.get(source_url__endswith="/a/2")
    assert (summary.answers_updated, summary.unchanged, summary.revisions_added) == (1, 2, 1)
    assert answer.score == 5
    assert answer.revision_count == 2
    assert list(answer.revisions.values_list("number", "body")) == [
        (1, "Hold the button for ten seconds."),
        (2, "Hold it for *twenty* seconds."),
    ]
    assert edits == [(answer.pk, 2, "se-example-7")]
    assert announced[-1] == [answer.question_id]
    assert Question.objects.get().accepted_answer == answer


def test_votes_are_counted_in_the_summary_but_not_stored(tmp_path):
    votes = [{"Id": i, "PostId": 1, "VoteTypeId": t} for i, t in enumerate([2, 2, 3, 5], 1)]
    dump = write_dump(tmp_path, [question_row()], [USER], votes)
    summary = import_stackexchange_dump(dump_dir=dump, area_slug="x")
    assert (summary.votes_up, summary.votes_down) == (2, 1)
    assert Question.objects.get().score == 3
    assert not Question.objects.get().votes.exists()


def test_an_existing_area_is_reused_and_renamed_only_when_a_name_is_given(tmp_path):
    ProductArea.objects.create(slug="hubs", name="Hubs")
    dump = write_dump(tmp_path, [question_row()], [USER])
    import_stackexchange_dump(dump_dir=dump, area_slug="hubs")
    assert ProductArea.objects.get().name == "Hubs"
    import_stackexchange_dump(dump_dir=dump, area_slug="hubs", area_name="Smart hubs")
    assert ProductArea.objects.get().name == "Smart hubs"
    assert Question.objects.get().area.slug == "hubs"


# --- The command ----------------------------------------------------------------------------


def test_the_command_shows_progress_on_stderr_and_a_summary_with_posts_per_second(tmp_path):
    dump = write_dump(tmp_path, [question_row(1), answer_row(2, 1)], [USER])
    out, err = io.StringIO(), io.StringIO()
    call_command("import_stackexchange", str(dump), "--area", "hubs", stdout=out, stderr=err)
    assert "100% 2/2 posts" in err.getvalue()
    assert "posts/s" in out.getvalue()
    assert "questions: 1 created" in out.getvalue()


def test_the_command_turns_a_dump_error_into_a_clear_command_error(tmp_path):
    with pytest.raises(CommandError, match=r"Posts\.xml is missing"):
        call_command("import_stackexchange", str(tmp_path), "--area", "hubs", "--site", "a.b.com")
