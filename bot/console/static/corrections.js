// The corrections page: an admin's Accept / Reject buttons (the list itself is server-rendered).
(function () {
  "use strict";
  var C = window.ShopBotConsole;
  var errorNode = document.getElementById("review-error");
  if (!C || !errorNode) return;

  function review(row, action, buttons) {
    buttons.forEach(function (b) { b.disabled = true; });
    var id = row.getAttribute("data-correction-id");
    C.api("POST", "/api/corrections/" + encodeURIComponent(id) + "/" + action)
      .then(function (reply) {
        var now = reply.data && reply.data.correction;
        if (now) {
          row.setAttribute("data-status", now.status);
          var tag = row.querySelector(".correction-status");
          if (tag) tag.textContent = now.status;
          var actions = row.querySelector(".actions");
          if (actions) actions.remove();
        }
        if (reply.ok) {
          C.showError(errorNode, "");
        } else if (reply.status !== 401) {
          C.showError(errorNode, (reply.data && reply.data.error) || "That did not work; try again.");
          buttons.forEach(function (b) { b.disabled = false; });
        }
      })
      .catch(function () {
        C.showError(errorNode, "Cannot reach the console; try again.");
        buttons.forEach(function (b) { b.disabled = false; });
      });
  }

  document.querySelectorAll('li[data-testid="correction"]').forEach(function (row) {
    var buttons = Array.prototype.slice.call(row.querySelectorAll("button[data-action]"));
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        review(row, button.getAttribute("data-action"), buttons);
      });
    });
  });
})();
