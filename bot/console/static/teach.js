// Admins on the corrections page: export the accepted corrections, start a retrain and follow it.
(function () {
  "use strict";
  var C = window.ShopBotConsole;
  var panel = document.querySelector('[data-testid="teach"]');
  if (!C || !panel) return;
  var errorNode = document.getElementById("teach-error");
  var exportButton = panel.querySelector('[data-testid="export-corrections"]');
  var retrainButton = panel.querySelector('[data-testid="retrain"]');
  var runsNode = document.getElementById("retrain-runs");
  var polling = null;

  function fail(reply) {
    if (reply.status === 401) return;
    C.showError(errorNode, (reply.data && reply.data.error) || "That did not work; try again.");
  }

  exportButton.addEventListener("click", function () {
    exportButton.disabled = true;
    C.showError(errorNode, "");
    C.api("POST", "/api/corrections/export")
      .then(function (reply) {
        if (!reply.ok) return fail(reply);
        document.getElementById("export-summary").textContent = reply.data.summary;
        document.getElementById("export-result").hidden = false;
      })
      .catch(function () { C.showError(errorNode, "Cannot reach the console; try again."); })
      .then(function () { exportButton.disabled = false; });
  });

  function renderRuns(runs) {
    runsNode.textContent = "";
    var running = false;
    runs.slice(0, 3).forEach(function (run) {
      var box = C.el("article", { "data-testid": "retrain-run", "data-status": run.status });
      var head = C.el("p");
      head.appendChild(C.el("span", { class: "run-status" }, "Retrain " + run.id + ": " + run.status));
      head.appendChild(document.createTextNode(" · preset " + run.preset + " · started " +
        run.started_at.replace("T", " ").slice(0, 16) + " UTC"));
      box.appendChild(head);
      if (run.summary) box.appendChild(C.el("pre", { class: "report", "data-testid": "retrain-report" }, run.summary));
      runsNode.appendChild(box);
      if (run.status === "running") running = true;
    });
    retrainButton.disabled = running;
    if (running && !polling) polling = window.setInterval(load, 3000);
    if (!running && polling) { window.clearInterval(polling); polling = null; }
  }

  function load() {
    return C.api("GET", "/api/retrain").then(function (reply) {
      if (reply.ok) renderRuns(reply.data.runs);
    });
  }

  retrainButton.addEventListener("click", function () {
    retrainButton.disabled = true;
    C.showError(errorNode, "");
    C.api("POST", "/api/retrain")
      .then(function (reply) {
        if (!reply.ok) { fail(reply); }
        return load();
      })
      .catch(function () {
        C.showError(errorNode, "Cannot reach the console; try again.");
        retrainButton.disabled = false;
      });
  });

  load();
})();
