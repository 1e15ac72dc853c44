// The CSR console: keyboard-first search over public and internal knowledge.
//
// Focus model: typing happens in the search box (a combobox); ↓ or Enter moves focus to the
// results listbox, which tracks the selected result with aria-activedescendant. Single-letter
// shortcuts (c, m, l, u) act only while focus is outside text fields, so they never eat a
// search term; "/" always returns to the search box.
//
// Safety: every piece of server data is placed with textContent or as an element we create.
// Snippets arrive as runs of plain text (`snippet_parts`, built by the server from its
// highlighted snippet) and matched runs become <mark> elements here: no server HTML is ever
// parsed in the browser, so a title or snippet can never become markup.
(function () {
  "use strict";

  var DEBOUNCE_MS = 180;
  var TOAST_MS = 2600;
  var MIN_QUERY = 2;

  function init() {
    var root = document.getElementById("agent-console");
    if (!root) {
      return;
    }
    var input = document.getElementById("agent-q");
    var form = document.getElementById("agent-search-form");
    var list = document.getElementById("agent-results");
    var status = document.getElementById("agent-status");
    var detail = document.getElementById("agent-detail");
    var related = document.getElementById("agent-related");
    var toastBox = document.getElementById("agent-toast");
    var recentList = document.getElementById("agent-recent");
    var recentEmpty = document.getElementById("agent-recent-empty");
    var usageDialog = document.getElementById("agent-usage-dialog");
    var usageForm = document.getElementById("agent-usage-form");
    var usageInput = document.getElementById("agent-case-ref");
    var usageError = document.getElementById("agent-case-ref-error");
    var usageArticle = document.getElementById("agent-usage-article");
    var helpDialog = document.getElementById("agent-help");
    var actionButtons = root.querySelectorAll(".agent-toolbar [data-action]");

    var results = [];
    var active = -1;
    var timer = null;
    var toastTimer = null;
    var controller = null;
    var sequence = 0;
    var lastQuery = null;
    var usageTarget = null;
    var focusWhenReady = false; // ↓/Enter pressed before the newest results arrived
    // The server logs each search for content-gap analysis; while the agent keeps typing, each
    // request sends the previous one's log reference so the log holds what they settled on, and
    // using a result (open, copy, used for case) records it as that search's click.
    var logToken = "";

    // --- helpers ---------------------------------------------------------------------------

    function el(tag, className, text) {
      var node = document.createElement(tag);
      if (className) {
        node.className = className;
      }
      if (text !== undefined && text !== null) {
        node.textContent = String(text);
      }
      return node;
    }

    function clearChildren(node) {
      while (node.firstChild) {
        node.removeChild(node.firstChild);
      }
    }

    function safeHref(url) {
      // Only http(s) links on this site or absolute http(s) links built by the API.
      try {
        var parsed = new URL(String(url || ""), window.location.href);
        return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
      } catch (error) {
        return null;
      }
    }

    function csrfToken() {
      var field = usageForm.querySelector('input[name="csrfmiddlewaretoken"]');
      return field ? field.value : "";
    }

    function toast(message) {
      toastBox.textContent = message;
      toastBox.hidden = false;
      window.clearTimeout(toastTimer);
      toastTimer = window.setTimeout(function () {
        toastBox.hidden = true;
      }, TOAST_MS);
    }

    function dialogOpen() {
      return usageDialog.open || helpDialog.open;
    }

    function isTextField(node) {
      if (!node || !node.tagName) {
        return false;
      }
      var tag = node.tagName.toLowerCase();
      return tag === "input" || tag === "textarea" || tag === "select" || node.isContentEditable;
    }

    function relativeTime(iso) {
      var then = Date.parse(iso);
      if (isNaN(then)) {
        return "";
      }
      var minutes = Math.round((Date.now() - then) / 60000);
      if (minutes < 1) {
        return "just now";
      }
      if (minutes < 60) {
        return minutes + " min ago";
      }
      var hours = Math.round(minutes / 60);
      if (hours < 24) {
        return hours + " h ago";
      }
      var days = Math.round(hours / 24);
      return days + (days === 1 ? " day ago" : " days ago");
    }

    // --- rendering -------------------------------------------------------------------------

    function renderMeta(result) {
      var meta = el("p", "agent-meta");
      meta.appendChild(el("span", "agent-tier agent-tier--" + result.tier, result.tier_label));
      if (result.validators && result.validators.length) {
        meta.appendChild(el("span", "agent-validators", "by " + result.validators.join(", ")));
      }
      meta.appendChild(el("span", "agent-area", result.area_name || result.area));
      meta.appendChild(el("span", "agent-fresh", result.freshness));
      if (result.article_id !== null && result.article_id !== undefined) {
        meta.appendChild(
          el("span", "agent-usage", "used " + result.usage_count + (result.usage_count === 1 ? " time" : " times"))
        );
      }
      return meta;
    }

    function renderResult(result, index) {
      var item = el("li", "agent-result agent-result--" + result.type);
      item.id = "agent-opt-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.dataset.index = String(index);

      var head = el("div", "agent-result-head");
      head.appendChild(el("span", "agent-type agent-type--" + result.type, result.type_label));
      head.appendChild(el("span", "agent-title", result.title));
      if (result.audience === "internal") {
        head.appendChild(el("span", "agent-badge agent-badge--internal", "Internal"));
      }
      if (result.needs_review) {
        var review = el("span", "agent-badge agent-badge--review", "Needs review");
        if (result.review_reason) {
          review.title = result.review_reason;
        }
        head.appendChild(review);
      }
      item.appendChild(head);

      var snippet = el("p", "agent-snippet");
      (result.snippet_parts || []).forEach(function (part) {
        if (part.match) {
          snippet.appendChild(el("mark", null, part.text));
        } else {
          snippet.appendChild(document.createTextNode(String(part.text)));
        }
      });
      item.appendChild(snippet);
      item.appendChild(renderMeta(result));

      if (result.related_threads && result.related_threads.length) {
        var titles = result.related_threads.map(function (thread) {
          return (thread.is_source ? "Source: " : "") + thread.title;
        });
        item.appendChild(el("p", "agent-related-inline", "Related: " + titles.join(" · ")));
      }
      return item;
    }

    function renderResults(data) {
      results = Array.isArray(data.results) ? data.results : [];
      active = -1;
      clearChildren(list);
      results.forEach(function (result, index) {
        list.appendChild(renderResult(result, index));
      });
      list.hidden = results.length === 0;
      input.setAttribute("aria-expanded", results.length ? "true" : "false");
      list.removeAttribute("aria-activedescendant");
      if (results.length) {
        var total = data.count || results.length;
        status.textContent =
          total + (total === 1 ? " result" : " results") +
          (total > results.length ? " (showing " + results.length + ")" : "") +
          ". Press ↓ to choose.";
      } else {
        status.textContent = "No results for “" + data.query + "”.";
      }
      updateSelection();
      if (focusWhenReady || document.activeElement === list) {
        focusWhenReady = false;
        if (!focusResults(0)) {
          input.focus();
        }
      }
    }

    function renderRelated(result) {
      clearChildren(related);
      var threads = (result && result.related_threads) || [];
      threads.forEach(function (thread) {
        var href = safeHref(thread.url);
        if (!href) {
          return;
        }
        var item = el("li");
        var link = el("a", null, thread.title);
        link.href = href;
        item.appendChild(link);
        if (thread.is_source) {
          item.appendChild(el("span", "agent-hint", " (source thread)"));
        }
        related.appendChild(item);
      });
      detail.hidden = !related.firstChild;
    }

    function updateSelection() {
      var options = list.querySelectorAll('[role="option"]');
      for (var i = 0; i < options.length; i += 1) {
        var selected = i === active;
        options[i].setAttribute("aria-selected", selected ? "true" : "false");
        options[i].classList.toggle("is-active", selected);
      }
      var result = current();
      if (result) {
        list.setAttribute("aria-activedescendant", "agent-opt-" + active);
        var option = document.getElementById("agent-opt-" + active);
        if (option && option.scrollIntoView) {
          option.scrollIntoView({ block: "nearest" });
        }
      } else {
        list.removeAttribute("aria-activedescendant");
      }
      for (var j = 0; j < actionButtons.length; j += 1) {
        var action = actionButtons[j].dataset.action;
        actionButtons[j].disabled = !result || (action === "usage" && !isArticle(result));
      }
      renderRelated(result);
    }

    function renderRecent(items) {
      clearChildren(recentList);
      (Array.isArray(items) ? items : []).forEach(function (article) {
        var href = safeHref(article.url);
        if (!href) {
          return;
        }
        var item = el("li");
        var link = el("a", null, article.title);
        link.href = href;
        item.appendChild(link);
        var meta = el("span", "agent-recent-meta", article.last_case_ref + " · " + relativeTime(article.last_used_at));
        if (article.audience === "internal") {
          meta.appendChild(document.createTextNode(" · "));
          meta.appendChild(el("span", "agent-badge agent-badge--internal", "Internal"));
        }
        item.appendChild(meta);
        recentList.appendChild(item);
      });
      recentEmpty.hidden = !!recentList.firstChild;
    }

    // --- state -----------------------------------------------------------------------------

    function current() {
      return active >= 0 && active < results.length ? results[active] : null;
    }

    function isArticle(result) {
      return result && result.article_id !== null && result.article_id !== undefined;
    }

    function select(index) {
      if (!results.length) {
        return;
      }
      active = Math.max(0, Math.min(results.length - 1, index));
      updateSelection();
    }

    function focusResults(index) {
      if (!results.length) {
        return false;
      }
      select(index);
      list.focus();
      return true;
    }

    function focusSearch() {
      input.focus();
      input.select();
    }

    // --- search ----------------------------------------------------------------------------

    function runSearch() {
      window.clearTimeout(timer);
      timer = null;
      var query = input.value.trim();
      if (query === lastQuery) {
        if (focusWhenReady) {
          focusWhenReady = false;
          focusResults(Math.max(active, 0));
        }
        return;
      }
      lastQuery = query;
      if (controller) {
        controller.abort(); // an older, slower response must not replace a newer one
      }
      if (query.length < MIN_QUERY) {
        logToken = ""; // the box was cleared: what comes next is a new search
        renderResults({ results: [], query: query });
        status.textContent = "Type to search.";
        return;
      }
      var mine = (sequence += 1);
      controller = typeof AbortController === "function" ? new AbortController() : null;
      status.textContent = "Searching…";
      var url = root.dataset.searchUrl + "?q=" + encodeURIComponent(query);
      if (logToken) {
        url += "&refine=" + encodeURIComponent(logToken);
      }
      fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (reply) {
          if (mine !== sequence) {
            return;
          }
          if (!reply.ok) {
            renderResults({ results: [], query: query });
            status.textContent = (reply.body && (reply.body.detail || (reply.body.q || [])[0])) || "Search failed.";
            return;
          }
          logToken = typeof reply.body.log === "string" ? reply.body.log : "";
          renderResults(reply.body);
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") {
            return;
          }
          lastQuery = null; // let the next keystroke retry
          focusWhenReady = false;
          status.textContent = "Search is unavailable right now. Try again in a moment.";
        });
    }

    function scheduleSearch() {
      window.clearTimeout(timer);
      timer = window.setTimeout(runSearch, DEBOUNCE_MS);
    }

    // --- actions ---------------------------------------------------------------------------

    function track(result) {
      // Best effort and never in the agent's way: keepalive lets it finish after "open" leaves.
      if (!logToken || !result || !root.dataset.clickUrl) {
        return;
      }
      try {
        fetch(root.dataset.clickUrl, {
          method: "POST",
          credentials: "same-origin",
          keepalive: true,
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({ log: logToken, doc: result.id }),
        }).catch(function () {});
      } catch (error) {
        // An old browser without fetch options: the search stays logged, without its click.
      }
    }

    function open(result) {
      var href = result && safeHref(result.url);
      if (href) {
        track(result);
        window.location.assign(href);
      }
    }

    function copy(text, what, result) {
      if (!text) {
        toast("Nothing to copy: this thread has no answer yet.");
        return;
      }
      if (!navigator.clipboard || !navigator.clipboard.writeText) {
        toast("The browser does not allow copying here (it needs https).");
        return;
      }
      navigator.clipboard.writeText(text).then(
        function () {
          track(result);
          toast("Copied " + what + ".");
        },
        function () {
          toast("Could not copy: the browser refused clipboard access.");
        }
      );
    }

    function perform(action) {
      var result = current();
      if (!result) {
        toast("Choose a result first (↓).");
        return;
      }
      if (action === "open") {
        open(result);
      } else if (action === "copy-text") {
        copy(result.solution_text, "the solution as plain text", result);
      } else if (action === "copy-markdown") {
        copy(result.solution_markdown, "the solution as Markdown", result);
      } else if (action === "copy-link") {
        copy(
          result.public_url,
          result.audience === "internal" ? "the link (internal: customers cannot open it)" : "the public link",
          result
        );
      } else if (action === "usage") {
        openUsage(result);
      }
    }

    function openUsage(result) {
      if (!isArticle(result)) {
        toast("Only knowledge-base articles can be recorded for a case.");
        return;
      }
      usageTarget = result;
      usageArticle.textContent = result.title;
      usageError.hidden = true;
      usageError.textContent = "";
      usageInput.removeAttribute("aria-invalid");
      usageDialog.showModal();
      usageInput.focus();
      usageInput.select();
    }

    function showUsageError(message) {
      usageError.textContent = message;
      usageError.hidden = false;
      usageInput.setAttribute("aria-invalid", "true");
      usageInput.focus();
    }

    function submitUsage(event) {
      event.preventDefault();
      var target = usageTarget;
      if (!target) {
        usageDialog.close();
        return;
      }
      var url = root.dataset.usageUrl.replace("/0/usage/", "/" + encodeURIComponent(target.article_id) + "/usage/");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify({ case_ref: usageInput.value }),
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { status: response.status, body: body || {} };
          });
        })
        .then(function (reply) {
          if (reply.status === 201) {
            track(target);
            target.usage_count = reply.body.usage_count;
            var index = results.indexOf(target);
            if (index >= 0) {
              var option = document.getElementById("agent-opt-" + index);
              var meta = option && option.querySelector(".agent-meta");
              if (meta) {
                option.replaceChild(renderMeta(target), meta);
              }
            }
            usageDialog.close();
            toast("Recorded “" + target.title + "” for case " + reply.body.case_ref + ".");
            refreshRecent();
            return;
          }
          var body = reply.body;
          var message =
            (body.case_ref && body.case_ref.join(" ")) ||
            (body.article && body.article.join(" ")) ||
            (body.non_field_errors && body.non_field_errors.join(" ")) ||
            body.detail ||
            "Could not record the case.";
          showUsageError(String(message));
        })
        .catch(function () {
          showUsageError("Could not reach the server. Your case reference is kept: try again.");
        });
    }

    function refreshRecent() {
      fetch(root.dataset.recentUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (items) {
          if (items) {
            renderRecent(items);
          }
        })
        .catch(function () {
          // The list refreshes on the next recording or page load.
        });
    }

    // --- keyboard --------------------------------------------------------------------------

    function onSearchKey(event) {
      if (event.key === "ArrowDown" || event.key === "Enter") {
        event.preventDefault();
        if (timer !== null || input.value.trim() !== lastQuery) {
          // The results shown must match what was typed: move once they arrive.
          focusWhenReady = true;
          runSearch();
          return;
        }
        focusResults(active >= 0 ? active : 0);
      }
    }

    function onListKey(event) {
      switch (event.key) {
        case "ArrowDown":
          select(active + 1);
          return true;
        case "ArrowUp":
          if (active <= 0) {
            focusSearch();
          } else {
            select(active - 1);
          }
          return true;
        case "Home":
          select(0);
          return true;
        case "End":
          select(results.length - 1);
          return true;
        case "Enter":
          perform("open");
          return true;
        case "Escape":
          focusSearch();
          return true;
        default:
          return false;
      }
    }

    var SHORTCUTS = { c: "copy-text", m: "copy-markdown", l: "copy-link", u: "usage" };

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) {
        return;
      }
      if (dialogOpen()) {
        return; // dialogs handle their own keys (Esc closes them natively)
      }
      var target = event.target;
      if (target === input) {
        onSearchKey(event);
        return;
      }
      if (isTextField(target)) {
        return;
      }
      if (target === list && onListKey(event)) {
        event.preventDefault();
        return;
      }
      if (event.key === "/") {
        event.preventDefault();
        focusSearch();
      } else if (event.key === "?") {
        event.preventDefault();
        helpDialog.showModal();
      } else if (SHORTCUTS[event.key] && !event.shiftKey) {
        event.preventDefault();
        perform(SHORTCUTS[event.key]);
      }
    });

    // --- mouse and wiring ------------------------------------------------------------------

    list.addEventListener("click", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) {
        select(Number(option.dataset.index));
        list.focus();
      }
    });
    list.addEventListener("dblclick", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) {
        open(results[Number(option.dataset.index)]);
      }
    });
    list.addEventListener("focus", function () {
      if (active < 0 && results.length) {
        select(0);
      }
    });
    for (var i = 0; i < actionButtons.length; i += 1) {
      actionButtons[i].addEventListener("click", function (event) {
        perform(event.currentTarget.dataset.action);
      });
    }
    document.getElementById("agent-help-button").addEventListener("click", function () {
      helpDialog.showModal();
    });
    usageForm.addEventListener("submit", submitUsage);
    usageForm.querySelector("[data-close]").addEventListener("click", function () {
      usageDialog.close();
    });
    [usageDialog, helpDialog].forEach(function (dialog) {
      dialog.addEventListener("close", function () {
        if (results.length && active >= 0) {
          list.focus();
        } else {
          input.focus();
        }
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault(); // without JavaScript the form goes to the knowledge-base search
    });
    input.addEventListener("input", scheduleSearch);
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        input.focus(); // back from an opened article: ready for the next customer
      }
    });

    input.focus();
    if (input.value.trim()) {
      runSearch();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
