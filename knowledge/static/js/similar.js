// "Before you ask": while a member types a question title, list existing articles and threads
// that may already answer it. Progressive enhancement: the ask form works without it.
//
// Markup: <div id="similar-questions" data-url="/kb/similar/"></div> next to an
// <input name="title">. Results are built with textContent only, so titles from the server can
// never become markup.
(function () {
  "use strict";

  var MIN_LENGTH = 10;
  var DELAY_MS = 350;

  function init() {
    var box = document.getElementById("similar-questions");
    if (!box || !box.dataset.url) {
      return;
    }
    var form = box.closest("form");
    var input = (form || document).querySelector('input[name="title"]');
    if (!input) {
      return;
    }
    box.setAttribute("aria-live", "polite");

    var timer = null;
    var controller = null;
    var lastQuery = null;

    function clear() {
      while (box.firstChild) {
        box.removeChild(box.firstChild);
      }
      box.hidden = true;
    }

    function render(items) {
      clear();
      if (!Array.isArray(items) || items.length === 0) {
        return;
      }
      var heading = document.createElement("p");
      heading.className = "similar-heading";
      heading.textContent = "Before you ask: these may answer it";
      var list = document.createElement("ul");
      list.className = "similar-list";
      items.forEach(function (item) {
        if (!item || typeof item.url !== "string" || item.url.charAt(0) !== "/") {
          return; // only same-site links
        }
        // The click link records the click (a possible deflection) and redirects to item.url.
        var href = typeof item.click_url === "string" && item.click_url.charAt(0) === "/" &&
          item.click_url.charAt(1) !== "/" ? item.click_url : item.url;
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.href = href;
        link.textContent = String(item.title || "");
        link.target = "_blank";
        link.rel = "noopener";
        li.appendChild(link);
        if (item.type_label) {
          var label = document.createElement("span");
          label.className = "similar-type";
          label.textContent = " · " + String(item.type_label);
          li.appendChild(label);
        }
        list.appendChild(li);
      });
      if (!list.firstChild) {
        return;
      }
      box.appendChild(heading);
      box.appendChild(list);
      box.hidden = false;
    }

    function lookup() {
      var query = input.value.trim();
      if (query === lastQuery) {
        return;
      }
      lastQuery = query;
      if (controller) {
        controller.abort(); // a slower, older response must not overwrite a newer one
      }
      if (query.length < MIN_LENGTH) {
        clear();
        return;
      }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var url = box.dataset.url + (box.dataset.url.indexOf("?") === -1 ? "?" : "&") +
        "q=" + encodeURIComponent(query);
      fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          return response.ok ? response.json() : [];
        })
        .then(render)
        .catch(function (error) {
          if (!error || error.name !== "AbortError") {
            clear(); // suggestions are optional: fail quietly
          }
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, DELAY_MS);
    });
    if (input.value) {
      lookup(); // prefilled from ?title= (the "Ask the community" link on an empty search)
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
