// ShopBot agent console: keeps the waiting count current without a reload. No inline script
// anywhere (the pages' CSP allows scripts from this origin only).
(function () {
  "use strict";
  var count = document.getElementById("queue-count");
  if (!count) return;
  var title = document.title.replace(/^\(\d+\) /, "");
  var empty = document.getElementById("queue-empty");

  function show(n) {
    count.textContent = String(n);
    document.title = (n > 0 ? "(" + n + ") " : "") + title;
    if (empty) empty.hidden = n > 0;
  }

  function refresh() {
    fetch("/api/queue", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (reply) {
        if (reply.status === 401) { window.location.assign("/signin"); return null; }
        return reply.ok ? reply.json() : null;
      })
      .then(function (data) { if (data) show(data.count); })
      .catch(function () { /* offline for a moment: try again next tick */ });
  }

  window.setInterval(refresh, 15000);
})();
