// Live directory filters: re-fetch the results fragment as the filters change, without a page
// reload. Without JavaScript the same form is a plain GET form.
(function () {
  "use strict";
  var form = document.getElementById("directory-filters");
  var results = document.getElementById("directory-results");
  if (!form || !results || !window.fetch) return;
  form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
  var timer = null;
  var latest = 0;

  function query() {
    var params = new URLSearchParams(new FormData(form));
    Array.from(params.keys()).forEach(function (key) {
      if (!params.get(key)) params.delete(key);
    });
    return params;
  }

  function refresh() {
    var params = query();
    var shown = params.toString();
    params.set("fragment", "1");
    var ticket = ++latest;
    results.setAttribute("aria-busy", "true");
    fetch(form.dataset.fragmentUrl + "?" + params.toString(), {
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response); })
      .then(function (html) {
        if (ticket !== latest) return; // a newer request is on its way
        results.innerHTML = html;
        history.replaceState(null, "", shown ? "?" + shown : location.pathname);
      })
      .catch(function () { form.submit(); })
      .finally(function () { if (ticket === latest) results.removeAttribute("aria-busy"); });
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(refresh, delay);
  }

  form.addEventListener("input", function (event) {
    schedule(event.target.type === "search" || event.target.type === "text" ? 250 : 0);
  });
  form.addEventListener("change", function () { schedule(0); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    schedule(0);
  });
})();
