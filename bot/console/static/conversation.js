// One conversation: the whole history, polled every second from /api/conversations/{id}, and the
// handoff controls (Claim while waiting; reply, Hand back and Close for the agent who claimed it).
(function () {
  "use strict";
  var C = window.ShopBotConsole;
  var root = document.querySelector("main[data-conversation-id]");
  if (!C || !root) return;
  var conversationId = root.getAttribute("data-conversation-id");
  var intents = (root.getAttribute("data-intents") || "").split(" ").filter(Boolean);
  var log = document.getElementById("transcript-log");
  var transcript = document.getElementById("transcript");
  var transcriptError = document.getElementById("transcript-error");
  var status = document.getElementById("handoff-status");
  var claimButton = document.getElementById("claim");
  var claimError = document.getElementById("claim-error");
  var form = document.getElementById("reply-form");
  var input = document.getElementById("reply-input");
  var replyError = document.getElementById("reply-error");
  var after = 0;
  var handoff = null;
  var busy = false;
  var loaded = false;

  var EVENTS = {
    pause: "The bot paused: a human takes over.",
    resume: "The bot is back.",
    session: "A new session started.",
    restart: "The conversation was restarted.",
  };

  function time(iso) {
    if (!iso) return "";
    var when = new Date(iso);
    return isNaN(when) ? "" : when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function score(value) { return value === null || value === undefined ? "" : " " + value.toFixed(2); }

  var THUMBS = { up: "👍 The shopper found this helpful", down: "👎 The shopper found this unhelpful" };

  // Only http(s) links from the tracker become hrefs (never javascript: or data:).
  function safeUrl(url) { return /^https?:\/\//i.test(url || "") ? url : null; }

  function entityChips(entities) {
    var p = C.el("p", { class: "chips" });
    entities.forEach(function (e) {
      var words = e.name + " = " + e.value;
      var about = [e.extractor || "unknown extractor"];
      if (e.span !== null && e.span !== undefined) about.push("“" + e.span + "” at " + e.start + "–" + e.end);
      if (e.confidence !== null && e.confidence !== undefined) about.push("confidence" + score(e.confidence));
      p.appendChild(C.el("span", {
        class: "chip", "data-testid": "entity", "data-entity": e.name, title: about.join(", "),
      }, words));
    });
    return p;
  }

  function reasoning(why) {
    var details = C.el("details", { class: "reasoning", "data-testid": "reasoning" });
    details.appendChild(C.el("summary", {}, "Why this answer"));
    details.appendChild(C.el("p", {
      class: "outcome", "data-testid": "outcome", "data-outcome": why.outcome,
    }, why.outcome_text));
    if (why.passages.length) {
      details.appendChild(C.el("p", { class: "nlu" }, "Retrieved passages (best first):"));
      var passages = C.el("ol", { class: "passages" });
      why.passages.forEach(function (p) {
        passages.appendChild(C.el("li", {
          "data-testid": "passage", "data-score": p.score, "data-passage-id": p.id,
        }, (p.title || p.id) + (p.kind ? " (" + p.kind + ")" : "") + " · score " +
          (p.score === null ? "?" : p.score.toFixed(4))));
      });
      details.appendChild(passages);
      if (why.more_passages) {
        details.appendChild(C.el("p", { class: "nlu" }, "and " + why.more_passages + " more"));
      }
    } else {
      details.appendChild(C.el("p", { class: "nlu" }, "No passage was retrieved."));
    }
    if (why.citations.length) {
      var citations = C.el("ul", { class: "citations" });
      why.citations.forEach(function (c) {
        var li = C.el("li", { "data-testid": "citation", "data-n": c.n }, "[" + c.n + "] ");
        var href = safeUrl(c.url);
        li.appendChild(href ?
          C.el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, c.title || href) :
          document.createTextNode(c.title || "(untitled)"));
        citations.appendChild(li);
      });
      details.appendChild(citations);
    } else {
      details.appendChild(C.el("p", { class: "nlu" }, "No citations."));
    }
    var stages = Object.keys(why.latency_ms || {});
    if (stages.length) {
      details.appendChild(C.el("p", { class: "nlu" }, "Latency: " + stages.map(function (k) {
        return k + " " + why.latency_ms[k] + " ms";
      }).join(" · ")));
    }
    return details;
  }

  function thumbs(item) {
    return C.el("p", {
      class: "thumbs thumbs-" + item.value, "data-testid": "thumbs", "data-value": item.value,
      "data-event-id": item.id,
    }, (THUMBS[item.value] || item.value) + " " + time(item.at));
  }

  // Thumbs go on the message they rate (the latest replaces an earlier one); unmatched thumbs
  // (older feedback without the rated text) are a line of their own.
  function renderFeedback(item) {
    var rated = item.refers_to && transcript.querySelector('li[data-event-id="' + Number(item.refers_to) + '"]');
    if (!rated) {
      var line = C.el("li", { class: "event", "data-testid": "event", "data-kind": "feedback", "data-event-id": item.id });
      line.appendChild(thumbs(item));
      line.appendChild(C.el("span", { class: "nlu" }, "(the rated message was not found in the history)"));
      return line;
    }
    var old = rated.querySelector('[data-testid="thumbs"]');
    if (old) old.remove();
    rated.appendChild(thumbs(item));
    return null;
  }

  function renderMessage(item) {
    var li = C.el("li", {
      class: "msg msg-" + item.author, "data-testid": "message", "data-author": item.author,
      "data-event-id": item.id,
    });
    var who = C.author(item.author);
    if (item.author === "agent") who = (item.agent || "Agent") + " (agent)";
    var meta = C.el("p", { class: "msg-meta" });
    meta.appendChild(C.el("span", { class: "who" }, who));
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(C.el("time", { datetime: item.at }, time(item.at)));
    li.appendChild(meta);
    var text = item.text || (item.buttons && item.buttons.length ? "" : "(no text)");
    if (text) li.appendChild(C.el("p", { class: "msg-text" }, text));
    if (item.buttons && item.buttons.length) {
      li.appendChild(C.el("p", { class: "nlu" }, "Buttons: " + item.buttons.join(" · ")));
    }
    if (item.type === "user") {
      var parts = [];
      if (item.intent) parts.push("intent " + item.intent.name + score(item.intent.confidence));
      if (item.runner_up) parts.push("runner-up " + item.runner_up.name + score(item.runner_up.confidence));
      if (item.sentiment) parts.push("sentiment " + item.sentiment.label + score(item.sentiment.confidence));
      if (item.channel) parts.push("via " + item.channel);
      if (parts.length) li.appendChild(C.el("p", { class: "nlu" }, parts.join(" · ")));
      if (item.entities && item.entities.length) li.appendChild(entityChips(item.entities));
    }
    if (item.reasoning) li.appendChild(reasoning(item.reasoning));
    var fixes = window.ShopBotCorrections && window.ShopBotCorrections.controls(item, conversationId, intents);
    if (fixes) li.appendChild(fixes);
    return li;
  }

  function render(item) {
    if (item.type === "user" || item.type === "bot") return renderMessage(item);
    if (item.type === "feedback") return renderFeedback(item);
    var words = item.type === "action" ? "Action " + item.name : EVENTS[item.type] || item.type;
    return C.el("li", {
      class: "event", "data-testid": "event", "data-kind": item.type, "data-event-id": item.id,
    }, words + " " + time(item.at));
  }

  function describe(h) {
    if (!h) return "The bot is handling this conversation; nobody asked for a human.";
    var reason = h.reason_text ? " Reason: " + h.reason_text + "." : "";
    if (h.status === "waiting") {
      return "Waiting for an agent" + (h.position ? " (number " + h.position + " in the queue)" : "") +
        "." + reason;
    }
    if (h.status === "claimed") {
      return (h.mine ? "You have this conversation." : (h.agent || "Another agent") + " has this conversation.") + reason;
    }
    return {
      returned: "Handed back to the bot.",
      closed: "Closed by " + (h.agent || "an agent") + ".",
      left: "The shopper left the queue.",
    }[h.status] || h.status;
  }

  function showHandoff(h) {
    var mine = Boolean(h && h.mine);
    var wasMine = Boolean(handoff && handoff.mine);
    handoff = h;
    var words = describe(h);
    if (status.textContent !== words) status.textContent = words;
    claimButton.hidden = !(h && h.status === "waiting");
    form.hidden = !mine;
    if (mine && !wasMine && loaded) input.focus();
  }

  function atBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 40;
  }

  function poll() {
    if (busy) return;
    busy = true;
    C.api("GET", C.apiPath(conversationId) + "?after=" + after)
      .then(function (reply) {
        if (!reply.ok || !reply.data) {
          if (reply.status !== 401) {
            C.showError(transcriptError, (reply.data && reply.data.error) || "The history could not be loaded.");
          }
          return;
        }
        C.showError(transcriptError, "");
        var follow = loaded && atBottom();
        reply.data.items.forEach(function (item) {
          var node = render(item);
          if (node) transcript.appendChild(node);
        });
        after = reply.data.after;
        showHandoff(reply.data.handoff);
        if (reply.data.more) {
          window.setTimeout(poll, 0);
        } else if (!loaded) {
          loaded = true;
          log.setAttribute("aria-busy", "false");
        }
        if (follow && reply.data.items.length) window.scrollTo(0, document.documentElement.scrollHeight);
      })
      .catch(function () { C.showError(transcriptError, "Cannot reach the console; retrying."); })
      .then(function () { busy = false; });
  }

  function post(action, body, errorNode, done) {
    return C.api("POST", C.apiPath(conversationId, action), body)
      .then(function (reply) {
        if (reply.ok) {
          C.showError(errorNode, "");
          if (done) done();
        } else if (reply.status !== 401) {
          C.showError(errorNode, (reply.data && reply.data.error) || "That did not work; try again.");
        }
        poll();
        return reply.ok;
      })
      .catch(function () { C.showError(errorNode, "Cannot reach the console; try again."); });
  }

  claimButton.addEventListener("click", function () {
    claimButton.disabled = true;
    post("claim", handoff ? { handoff_id: handoff.id } : {}, claimError).then(function () {
      claimButton.disabled = false;
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      C.showError(replyError, "Write a message first.");
      return;
    }
    post("reply", { text: text }, replyError, function () { input.value = ""; });
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  document.getElementById("handback").addEventListener("click", function () {
    post("handback", undefined, replyError);
  });
  document.getElementById("close").addEventListener("click", function () {
    post("close", undefined, replyError);
  });

  poll();
  window.setInterval(poll, 1000);
})();
