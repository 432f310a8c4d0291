/*
 * ShopBot web widget — the loader a store's page includes with one tag:
 *
 *   <script src="https://bot.example.com/webhooks/widget/widget.js"
 *           data-server="https://bot.example.com" data-store-name="My Store" defer></script>
 *
 * It only reads the tag's data-* options, draws the launcher button in a Shadow DOM and, when the
 * shopper opens the chat (or points at the button), loads the chat itself (widget-app.js and
 * widget.css from the same folder). Nothing here uses inline styles, innerHTML or eval, so the
 * widget works under a strict Content-Security-Policy (script-src/style-src naming the server).
 */
(() => {
  "use strict";

  // A hash of the lazily loaded files, stamped by `python -m bot.channels.widget_version`.
  const VERSION = "4eb2b6036e4d";
  const LOADER_PATH = "/webhooks/widget/widget.js";
  const script =
    document.currentScript || document.querySelector(`script[src*="${LOADER_PATH}"]`);
  if (!script || window.__shopbotWidgetLoaded) return; // a second copy of the tag does nothing
  window.__shopbotWidgetLoaded = VERSION;

  const DEFAULT_TEXTS = {
    open: "Open chat",
    unread: "{count} new messages",
    loadFailed: "The chat could not load. Try again.",
  };

  /** Read the options from the tag's data-* attributes (every text via data-text-*). */
  function readOptions(tag) {
    const data = tag.dataset;
    // The lazily loaded files sit in static/ next to widget.js, on the server that sent it.
    const assets = new URL("static/", tag.src || location.href).href;
    let server = (data.server || "").trim();
    if (!server) server = new URL(tag.src || location.href).origin;
    server = server.replace(/\/+$/, "");
    const texts = {};
    for (const [key, value] of Object.entries(data)) {
      if (key.startsWith("text") && key.length > 4 && value) {
        texts[key[4].toLowerCase() + key.slice(5)] = value;
      }
    }
    return {
      version: VERSION,
      server,
      api: `${server}/webhooks/widget`,
      assets,
      storeName: (data.storeName || "").trim(),
      greeting: data.greeting,
      privacyUrl: safeUrl(data.privacyUrl),
      customerToken: (data.customerToken || "").trim(),
      primaryColor: safeColor(data.primaryColor),
      primaryTextColor: safeColor(data.primaryTextColor),
      position: data.position === "left" ? "left" : "right",
      lang: data.lang || document.documentElement.lang || navigator.language || "en",
      texts,
    };
  }

  /** A colour the browser parses as one, or "" (so an option can never inject other CSS). */
  function safeColor(value) {
    const color = (value || "").trim();
    return color && window.CSS && CSS.supports("color", color) && !/[;{}]/.test(color) ? color : "";
  }

  /** An absolute http(s) URL, or "". */
  function safeUrl(value) {
    try {
      const url = new URL(value || "", location.href);
      return value && (url.protocol === "https:" || url.protocol === "http:") ? url.href : "";
    } catch {
      return "";
    }
  }

  function el(tag, className, attrs) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    return node;
  }

  /** A small SVG icon built from path data (no markup parsing). */
  function icon(paths, className) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", className);
    for (const d of paths) {
      const path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    }
    return svg;
  }

  const LAUNCHER_CSS = `
:host { all: initial; }
.sb-launcher {
  position: fixed; bottom: 20px; right: 20px; z-index: 2147483000;
  width: 60px; height: 60px; border-radius: 50%; border: 0; padding: 0; cursor: pointer;
  display: grid; place-items: center;
  background: var(--sb-primary, #3730a3); color: var(--sb-on-primary, #fff);
  box-shadow: 0 6px 20px rgba(15, 23, 42, .28), 0 2px 6px rgba(15, 23, 42, .2);
  transition: transform .15s ease, box-shadow .15s ease;
  -webkit-tap-highlight-color: transparent;
}
:host(.sb-left) .sb-launcher { right: auto; left: 20px; }
.sb-launcher:hover { transform: translateY(-2px) scale(1.03); }
.sb-launcher:focus-visible { outline: 3px solid #fff; box-shadow: 0 0 0 6px var(--sb-primary, #3730a3); }
.sb-launcher svg { width: 28px; height: 28px; fill: currentColor; }
.sb-launcher .sb-icon-close { display: none; }
.sb-launcher[aria-expanded="true"] .sb-icon-chat { display: none; }
.sb-launcher[aria-expanded="true"] .sb-icon-close { display: block; }
.sb-launcher[aria-busy="true"] { cursor: progress; opacity: .85; }
.sb-badge {
  position: absolute; top: -2px; right: -2px; min-width: 20px; height: 20px; padding: 0 5px;
  box-sizing: border-box; border-radius: 10px; background: #b91c1c; color: #fff;
  font: 700 12px/20px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; text-align: center;
}
.sb-badge[hidden] { display: none; }
@media (prefers-reduced-motion: reduce) { .sb-launcher { transition: none; } }
@media print { .sb-launcher { display: none; } }
`;

  function mountLauncher(options) {
    const host = el("div", options.position === "left" ? "sb-left" : "", {
      id: "shopbot-widget",
      "data-shopbot-version": VERSION,
    });
    // CSSOM, not a style attribute: allowed under a strict CSP.
    if (options.primaryColor) host.style.setProperty("--sb-primary", options.primaryColor);
    if (options.primaryTextColor) host.style.setProperty("--sb-on-primary", options.primaryTextColor);
    const root = host.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in root && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(LAUNCHER_CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el("link", "", { rel: "stylesheet", href: assetUrl(options, "widget.css") }));
    }
    const texts = { ...DEFAULT_TEXTS, ...options.texts };
    const label = options.storeName ? `${texts.open} — ${options.storeName}` : texts.open;
    const launcher = el("button", "sb-launcher", {
      type: "button",
      "aria-label": label,
      "aria-expanded": "false",
      "aria-haspopup": "dialog",
      part: "launcher",
    });
    launcher.appendChild(
      icon(
        ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4.5 3.6A.9.9 0 0 1 2 20.9V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"],
        "sb-icon-chat",
      ),
    );
    launcher.appendChild(
      icon(["M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z"], "sb-icon-close"),
    );
    const badge = el("span", "sb-badge", { "aria-hidden": "true" });
    badge.hidden = true;
    launcher.appendChild(badge);
    root.appendChild(launcher);
    document.body.appendChild(host);
    return { host, root, launcher, badge, label, texts };
  }

  function assetUrl(options, file) {
    return new URL(`${file}?v=${VERSION}`, options.assets).href;
  }

  function start() {
    const options = readOptions(script);
    const ui = mountLauncher(options);
    const openKey = `shopbot:open:${options.server}`;
    let app = null; // the loaded chat (widget-app.js's controller)
    let loading = null;

    function setUnread(count) {
      ui.badge.hidden = !count;
      ui.badge.textContent = count > 9 ? "9+" : String(count || "");
      ui.launcher.setAttribute(
        "aria-label",
        count ? `${ui.label} (${ui.texts.unread.replace("{count}", String(count))})` : ui.label,
      );
    }

    /** Load the chat's stylesheet and module once; later calls share the same promise. */
    function load() {
      if (!loading) {
        const css = el("link", "", { rel: "stylesheet", href: assetUrl(options, "widget.css") });
        const cssReady = new Promise((resolve) => {
          css.addEventListener("load", resolve, { once: true });
          css.addEventListener("error", resolve, { once: true }); // unstyled beats unusable
        });
        ui.root.appendChild(css);
        loading = Promise.all([import(assetUrl(options, "widget-app.js")), cssReady])
          .then(([module]) => {
            app = module.mount({
              root: ui.root,
              launcher: ui.launcher,
              options,
              onUnread: setUnread,
              onOpenChange(open) {
                ui.launcher.setAttribute("aria-expanded", String(open));
                try {
                  if (open) sessionStorage.setItem(openKey, "1");
                  else sessionStorage.removeItem(openKey);
                } catch {
                  /* storage disabled: the panel just starts closed after a reload */
                }
              },
            });
            return app;
          })
          .catch((error) => {
            loading = null; // let the next click try again
            ui.launcher.title = ui.texts.loadFailed;
            console.error("ShopBot widget: could not load the chat", error);
            throw error;
          });
      }
      return loading;
    }

    async function toggle() {
      if (app) {
        app.toggle();
        return;
      }
      ui.launcher.setAttribute("aria-busy", "true");
      try {
        (await load()).open();
      } catch {
        /* reported in load() */
      } finally {
        ui.launcher.removeAttribute("aria-busy");
      }
    }

    ui.launcher.addEventListener("click", toggle);
    // Start fetching the chat as soon as the shopper shows intent; opening is then instant.
    const prefetch = () => load().catch(() => {});
    ui.launcher.addEventListener("pointerenter", prefetch, { once: true });
    ui.launcher.addEventListener("focus", prefetch, { once: true });
    let wasOpen = false;
    try {
      wasOpen = sessionStorage.getItem(openKey) === "1";
    } catch {
      wasOpen = false;
    }
    if (wasOpen) toggle(); // the shopper had the chat open before this reload
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
