// The live handoff queue (home page): polls /api/queue every 2 s and updates only the entries
// that changed, so a focused Claim button keeps its focus. Markup as in _queue_item.html.
(function () {
  "use strict";
  var C = window.ShopBotConsole;
  var list = document.getElementById("queue");
  if (!C || !list) return;
  var count = document.getElementById("queue-count");
  var empty = document.getElementById("queue-empty");
  var problem = document.getElementById("queue-problem");
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  var errors = {}; // handoff id -> the claim error to keep showing
  var busy = false;

  function signature(entry) {
    var copy = Object.assign({}, entry);
    delete copy.waited_s;
    return JSON.stringify(copy) + "|" + (errors[entry.handoff_id] || "");
  }

  function title(entry) {
    return entry.customer || "Shopper " + entry.conversation_id.slice(0, 8);
  }

  function render(entry) {
    var li = C.el("li", {
      class: "queue-item",
      "data-testid": "queue-item",
      "data-conversation-id": entry.conversation_id,
      "data-handoff-id": entry.handoff_id,
      "data-status": entry.status,
    });
    var head = C.el("div", { class: "qi-head" });
    head.appendChild(
      C.el("a", { class: "qi-title", href: C.conversationPath(entry.conversation_id) }, title(entry))
    );
    head.appendChild(C.el("span", { class: "tag" }, entry.channel));
    head.appendChild(C.el("span", { class: "waited" }, "waiting " + C.duration(entry.waited_s)));
    li.appendChild(head);
    li.appendChild(C.el("p", { class: "reason" }, entry.reason_text));
    if (entry.last_messages.length) {
      var last = C.el("ol", { class: "last", "aria-label": "Last messages" });
      entry.last_messages.forEach(function (m) {
        var item = C.el("li");
        item.appendChild(C.el("span", { class: "who" }, C.author(m.author) + ":"));
        item.appendChild(document.createTextNode(" "));
        item.appendChild(C.el("span", { class: "text" }, m.text));
        last.appendChild(item);
      });
      li.appendChild(last);
    }
    if (entry.last_turns.length) {
      var nlu = C.el("p", { class: "nlu" }, "Last turns:");
      entry.last_turns.forEach(function (t, i) {
        var words = (t.intent || "no intent") +
          (t.confidence !== null ? " " + t.confidence.toFixed(2) : "") +
          (t.sentiment ? ", " + t.sentiment : "");
        nlu.appendChild(document.createTextNode(" "));
        nlu.appendChild(C.el("span", { class: "turn" }, words));
        if (i < entry.last_turns.length - 1) nlu.appendChild(document.createTextNode(" ·"));
      });
      li.appendChild(nlu);
    }
    if (entry.status === "waiting") {
      li.appendChild(C.el("button", {
        type: "button", class: "claim", "data-testid": "claim", "aria-label": "Claim " + title(entry),
      }, "Claim"));
    } else if (entry.mine) {
      var mine = C.el("p", { class: "holder" }, "You have this conversation. ");
      mine.appendChild(C.el("a", { href: C.conversationPath(entry.conversation_id) }, "Open it"));
      li.appendChild(mine);
    } else {
      li.appendChild(C.el("p", { class: "holder" }, "Claimed by " + (entry.agent || "another agent")));
    }
    var error = C.el("p", { class: "alert claim-error", "data-testid": "claim-error", role: "alert" });
    C.showError(error, errors[entry.handoff_id]);
    li.appendChild(error);
    li._signature = signature(entry);
    return li;
  }

  function focusedKey() {
    var active = document.activeElement;
    var item = active && active.closest ? active.closest(".queue-item") : null;
    return item ? { key: item.getAttribute("data-handoff-id"), claim: active.matches("button") } : null;
  }

  function restoreFocus(focus) {
    if (!focus) return;
    var item = list.querySelector('.queue-item[data-handoff-id="' + focus.key + '"]');
    var target = item && (focus.claim ? item.querySelector("button") : null);
    target = target || (item && item.querySelector("a"));
    if (target) target.focus();
  }

  function show(data) {
    count.textContent = String(data.count);
    document.title = (data.count > 0 ? "(" + data.count + ") " : "") + baseTitle;
    empty.hidden = data.count > 0;
    var entries = data.conversations;
    var live = {};
    entries.forEach(function (e) { live[e.handoff_id] = true; });
    Object.keys(errors).forEach(function (key) { if (!live[key]) delete errors[key]; });
    var focus = focusedKey();
    var wanted = entries.map(function (e) { return String(e.handoff_id); }).join(",");
    var shown = Array.prototype.map.call(list.children, function (li) {
      return li.getAttribute("data-handoff-id");
    }).join(",");
    if (wanted !== shown) {
      list.replaceChildren.apply(list, entries.map(render));
      restoreFocus(focus);
      return;
    }
    entries.forEach(function (entry, i) {
      var li = list.children[i];
      if (li._signature !== signature(entry)) {
        li.replaceWith(render(entry));
        if (focus && focus.key === String(entry.handoff_id)) restoreFocus(focus);
      } else {
        li.querySelector(".waited").textContent = "waiting " + C.duration(entry.waited_s);
      }
    });
  }

  function refresh() {
    if (busy) return;
    busy = true;
    C.api("GET", "/api/queue")
      .then(function (reply) {
        if (reply.ok && reply.data) {
          C.showError(problem, "");
          show(reply.data);
        } else if (reply.status !== 401) {
          C.showError(problem, (reply.data && reply.data.error) || "The queue could not be loaded.");
        }
      })
      .catch(function () { C.showError(problem, "Cannot reach the console; retrying."); })
      .then(function () { busy = false; });
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest('[data-testid="claim"]');
    if (!button) return;
    var item = button.closest(".queue-item");
    var conversationId = item.getAttribute("data-conversation-id");
    var handoffId = Number(item.getAttribute("data-handoff-id"));
    button.disabled = true;
    C.api("POST", C.apiPath(conversationId, "claim"), { handoff_id: handoffId })
      .then(function (reply) {
        if (reply.ok) {
          window.location.assign(C.conversationPath(conversationId));
          return;
        }
        errors[handoffId] = (reply.data && reply.data.error) || "The claim failed; try again.";
        C.showError(item.querySelector('[data-testid="claim-error"]'), errors[handoffId]);
        button.disabled = false;
        refresh();
      })
      .catch(function () {
        C.showError(item.querySelector('[data-testid="claim-error"]'), "Cannot reach the console.");
        button.disabled = false;
      });
  });

  refresh();
  window.setInterval(refresh, 2000);
})();
