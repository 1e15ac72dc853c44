"""The CSR console in a real browser, driven by the keyboard alone: search, move through results,
copy the solution, record a case, open the article."""

import time

import pytest
from allauth.account.models import EmailAddress

from knowledge import selectors, services
from knowledge.models import SearchQueryLog
from tests.e2e.conftest import log_in
from tests.factories import ArticleFactory, ProductAreaFactory, csr

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agent_page(browser, live_server):
    # Own context: the clipboard needs permissions the shared fixture does not grant.
    context = browser.new_context(
        base_url=live_server.url, permissions=["clipboard-read", "clipboard-write"]
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def _clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def _logged() -> list[tuple[str, str]]:
    return list(SearchQueryLog.objects.order_by("pk").values_list("query", "clicked_doc_id"))


def _eventually(check, *, seconds: float = 5.0):
    # The console logs and tracks clicks with its own requests; wait for them to land.
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_a_csr_walks_the_console_by_keyboard_alone(agent_page):
    page = agent_page
    area = ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")
    agent = csr(email="casey@example.com", display_name="Casey")
    EmailAddress.objects.create(user=agent, email=agent.email, verified=True, primary=True)
    articles = [
        ArticleFactory(
            area=area,
            title="Router firmware update fails at ninety percent",
            solution="Unplug the **satellites** first, then retry the update.",
        ),
        ArticleFactory(
            area=area,
            title="Router firmware update stuck after a reboot",
            solution="Hold the reset button for ten seconds.\n\nThen start the update again.",
        ),
    ]
    services.search_sync(doc_ids=[f"article:{a.pk}" for a in articles])
    query = "router firmware update"
    expected = selectors.console_search(viewer=agent, query=query).results
    assert len(expected) == 2
    second = expected[1]

    log_in(page, "casey@example.com")
    page.goto("/agent/")
    page.wait_for_url("**/kb/agent/")
    assert _focused_id(page) == "agent-q"  # the search box has focus on load

    # Typing on after a first search refines that logged search: one row, the settled query.
    page.keyboard.type("router")
    page.wait_for_selector("#agent-opt-1")
    assert _eventually(lambda: _logged() == [("router", "")])
    page.keyboard.type(query.removeprefix("router"))
    assert _eventually(lambda: _logged() == [(query, "")])
    page.wait_for_selector("#agent-opt-1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert _focused_id(page) == "agent-results"
    assert page.get_attribute("#agent-results", "aria-activedescendant") == "agent-opt-1"
    assert page.get_attribute("#agent-opt-1", "aria-selected") == "true"
    assert page.inner_text("#agent-opt-1 .agent-title") == second.title

    # c: the solution as plain text, with a visible toast.
    page.keyboard.press("c")
    page.wait_for_selector("#agent-toast:has-text('Copied the solution as plain text')")
    assert _clipboard(page) == second.solution_text
    assert "**" not in _clipboard(page)
    assert _eventually(lambda: _logged() == [(query, second.id)])  # the result the agent used

    # m: as Markdown; l: the public link.
    page.keyboard.press("m")
    page.wait_for_function(
        "expected => navigator.clipboard.readText().then(t => t === expected)",
        arg=second.solution_markdown,
    )
    page.keyboard.press("l")
    page.wait_for_function(
        "() => navigator.clipboard.readText().then(t => t.includes('/kb/articles/'))"
    )
    assert _clipboard(page).endswith(second.public_url)

    # ?: the shortcut help; Escape closes it and focus returns to the results.
    page.keyboard.press("?")
    page.wait_for_selector("#agent-help[open]")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.getElementById('agent-help').open")
    assert _focused_id(page) == "agent-results"

    # u: "used for case". A reference with a space is refused with a field error...
    page.keyboard.press("u")
    page.wait_for_selector("#agent-usage-dialog[open]")
    assert _focused_id(page) == "agent-case-ref"
    page.keyboard.type("CASE 4711")
    page.keyboard.press("Enter")
    page.wait_for_selector("#agent-case-ref-error:not([hidden])")
    assert "no spaces" in page.inner_text("#agent-case-ref-error")
    assert page.get_attribute("#agent-case-ref", "aria-invalid") == "true"
    # ...and a valid one is recorded.
    page.keyboard.press("Control+A")
    page.keyboard.type("CASE-4711")
    page.keyboard.press("Enter")
    page.wait_for_selector("#agent-toast:has-text('for case CASE-4711')")
    page.wait_for_selector(f"#agent-recent li:has-text('{second.title}')")
    assert "CASE-4711" in page.inner_text("#agent-recent")
    assert _focused_id(page) == "agent-results"

    # /: back to the search box; ↓ returns to the selected result; Enter opens it.
    page.keyboard.press("/")
    assert _focused_id(page) == "agent-q"
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#agent-results", "aria-activedescendant") == "agent-opt-1"
    page.keyboard.press("Enter")
    page.wait_for_url("**/kb/articles/**")
    assert second.title in page.content()
