// ShopBot agent console: helpers shared by queue.js and conversation.js. No inline script
// anywhere (the pages' CSP allows scripts from this origin only), and text from conversations is
// only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  // fetch JSON; resolves to {ok, status, data}. A lost session goes back to the sign-in page.
  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    var options = { method: method, credentials: "same-origin", headers: headers };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (reply) {
      if (reply.status === 401) {
        var here = window.location.pathname + window.location.search;
        window.location.assign("/signin?next=" + encodeURIComponent(here));
      }
      return reply.json().catch(function () { return null; }).then(function (data) {
        return { ok: reply.ok, status: reply.status, data: data };
      });
    });
  }

  // An element with attributes and (plain) text.
  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value !== null && value !== undefined && value !== false) {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function conversationPath(conversationId) {
    return "/conversations/" + encodeURIComponent(conversationId);
  }

  function apiPath(conversationId, action) {
    return "/api/conversations/" + encodeURIComponent(conversationId) + (action ? "/" + action : "");
  }

  function author(name) {
    return { user: "Shopper", agent: "Agent", notice: "Notice" }[name] || "Bot";
  }

  function showError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  window.ShopBotConsole = {
    api: api,
    el: el,
    duration: duration,
    conversationPath: conversationPath,
    apiPath: apiPath,
    author: author,
    showError: showError,
  };
})();
