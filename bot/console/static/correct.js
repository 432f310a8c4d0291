// Correction controls under each turn of a conversation (used by conversation.js): a shopper
// turn gets "Correct" (the right intent, optional entities), a bot answer "Write the right
// answer". Existing corrections are listed with their status. Text only via textContent.
(function () {
  "use strict";
  var C = window.ShopBotConsole;
  if (!C) return;

  function describe(c) {
    var words;
    if (c.kind === "intent") {
      words = "Intent " + (c.original_intent || "(none)") + " → " + c.intent;
      (c.entities || []).forEach(function (e) { words += " · " + e.entity + " = " + e.value; });
    } else {
      words = "Right answer: " + c.answer + (c.is_fact ? " (catalog/FAQ fact)" : "");
    }
    return words + " — " + c.status + (c.agent ? ", by " + c.agent : "");
  }

  function renderCorrection(c) {
    return C.el("li", {
      class: "correction", "data-testid": "correction", "data-status": c.status,
      "data-correction-id": c.id,
    }, describe(c));
  }

  // "order_number=482913; product=blue mug" -> spans of the turn's text (first occurrence).
  function parseEntities(text, value) {
    var spans = [];
    var parts = value.split(";").map(function (p) { return p.trim(); }).filter(Boolean);
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      var name = eq > 0 ? parts[i].slice(0, eq).trim() : "";
      var found = eq > 0 ? parts[i].slice(eq + 1).trim() : "";
      var start = found ? text.indexOf(found) : -1;
      if (!name || start < 0) {
        throw new Error("Write entities as name=words from the message; “" + parts[i] + "” is not.");
      }
      spans.push({ entity: name, value: found, start: start, end: start + found.length });
    }
    return spans;
  }

  function field(form, id, labelText, control) {
    form.appendChild(C.el("label", { for: id }, labelText));
    form.appendChild(control);
  }

  function intentForm(item, intents, id) {
    var form = C.el("form", { class: "correct-form" });
    var select = C.el("select", { id: id + "-intent", "data-testid": "correction-intent-select", required: true });
    select.appendChild(C.el("option", { value: "" }, "Choose the right intent"));
    intents.forEach(function (name) { select.appendChild(C.el("option", { value: name }, name)); });
    field(form, id + "-intent", "Right intent", select);
    var entities = C.el("input", {
      id: id + "-entities", type: "text", "data-testid": "correction-entities-input",
      "aria-describedby": id + "-entities-hint",
    });
    field(form, id + "-entities", "Entities (optional)", entities);
    form.appendChild(C.el("p", { id: id + "-entities-hint", class: "hint" },
      "name=words from the message, separated by ; (e.g. order_number=482913)"));
    form.body = function () {
      if (!select.value) throw new Error("Choose the right intent first.");
      return { event_id: item.id, intent: select.value, entities: parseEntities(item.text, entities.value) };
    };
    return form;
  }

  function answerForm(item, id) {
    var form = C.el("form", { class: "correct-form" });
    var text = C.el("textarea", { id: id + "-answer", rows: 3, maxlength: 2000, "data-testid": "answer-correction-input" });
    field(form, id + "-answer", "The right answer", text);
    var fact = C.el("input", { id: id + "-fact", type: "checkbox", "data-testid": "answer-correction-fact" });
    var factLabel = C.el("label", { for: id + "-fact", class: "check" });
    factLabel.appendChild(fact);
    factLabel.appendChild(document.createTextNode(" This is a catalog/FAQ fact"));
    form.appendChild(factLabel);
    form.body = function () {
      if (!text.value.trim()) throw new Error("Write the right answer first.");
      return { event_id: item.id, answer: text.value.trim(), is_fact: fact.checked };
    };
    return form;
  }

  // The controls and existing corrections of one turn (null for agent messages and notices).
  function controls(item, conversationId, intents) {
    var user = item.type === "user";
    if (!user && !(item.type === "bot" && item.author === "bot")) return null;
    var box = C.el("div", { class: "corrections" });
    var list = C.el("ul", { class: "correction-items", "aria-label": "Corrections of this turn" });
    (item.corrections || []).forEach(function (c) { list.appendChild(renderCorrection(c)); });
    box.appendChild(list);
    var details = C.el("details", { class: "correct" });
    details.appendChild(C.el("summary", { "data-testid": user ? "correct-intent" : "correct-answer" },
      user ? "Correct" : "Write the right answer"));
    var id = "correct-" + item.id;
    var form = user ? intentForm(item, intents, id) : answerForm(item, id);
    var error = C.el("p", { class: "alert", role: "alert", "data-testid": "correction-error", hidden: true });
    var save = C.el("button", { type: "submit", "data-testid": "correction-save" }, "Save correction");
    form.appendChild(error);
    form.appendChild(save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body;
      try { body = form.body(); } catch (problem) { C.showError(error, problem.message); return; }
      save.disabled = true;
      C.api("POST", C.apiPath(conversationId, "corrections"), body)
        .then(function (reply) {
          if (reply.ok && reply.data) {
            C.showError(error, "");
            list.appendChild(renderCorrection(reply.data.correction));
            form.reset();
            details.open = false;
          } else if (reply.status !== 401) {
            C.showError(error, (reply.data && reply.data.error) || "That did not work; try again.");
          }
        })
        .catch(function () { C.showError(error, "Cannot reach the console; try again."); })
        .then(function () { save.disabled = false; });
    });
    details.appendChild(form);
    box.appendChild(details);
    return box;
  }

  window.ShopBotCorrections = { controls: controls };
})();
