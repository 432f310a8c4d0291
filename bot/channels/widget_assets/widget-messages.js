/*
 * ShopBot widget — one DOM node per conversation item: the shopper's messages, the bot's
 * answers (text, quick replies, product cards, citations, thumbs), an agent's messages, handoff
 * notices and the streamed answer being written. Text always goes in through textContent or
 * widget-markdown.js; nothing here parses HTML.
 */

import { link, renderMarkdown, safeHref, withoutProductList, withoutSourcesFooter } from "./widget-markdown.js?v=4eb2b6036e4d";

export function el(tag, className, attrs, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

export function icon(d) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  svg.appendChild(path);
  return svg;
}

const THUMB_UP =
  "M2 21h4V9H2v12zM23 10a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L14.2 1 7.6 7.6C7.2 8 7 8.5 7 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z";
const THUMB_DOWN =
  "M22 3h-4v12h4V3zM1 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1L9.8 23l6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H6c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z";

export function fill(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (whole, key) =>
    values[key] === undefined ? whole : String(values[key]),
  );
}

export function formatPrice(price, currency, lang) {
  if (typeof price !== "number" || !Number.isFinite(price)) return "";
  try {
    return new Intl.NumberFormat(lang, { style: "currency", currency: currency || "USD" }).format(price);
  } catch {
    return `${price.toFixed(2)} ${currency || ""}`.trim();
  }
}

/** Builds conversation items; `actions` are the app's callbacks (send, ask, feedback). */
export class MessageRenderer {
  constructor({ texts, lang, botName, actions }) {
    this.texts = texts;
    this.lang = lang;
    this.botName = botName;
    this.actions = actions;
  }

  item(kind, attrs) {
    return el("div", `sb-item sb-${kind}`, attrs);
  }

  /** The shopper's message (pending until the server acknowledges it). */
  user(text, { clientId, seq, pending }) {
    const item = this.item("user", { "data-client-id": clientId, "data-seq": seq });
    item.appendChild(el("span", "sb-sr", {}, this.texts.you));
    item.appendChild(el("div", "sb-bubble", {}, text));
    if (pending) this.markPending(item);
    return item;
  }

  markPending(item) {
    item.classList.add("sb-pending");
    this.setStatus(item, this.texts.sending);
  }

  markSent(item, seq) {
    item.classList.remove("sb-pending", "sb-failed");
    if (seq !== undefined) item.dataset.seq = String(seq);
    item.querySelector(".sb-status")?.remove();
  }

  markFailed(item, reason, retry) {
    item.classList.remove("sb-pending");
    item.classList.add("sb-failed");
    const status = this.setStatus(item, reason ? `${this.texts.notSent} ${reason}` : this.texts.notSent);
    if (retry) {
      const button = el("button", "sb-link-button", { type: "button" }, this.texts.retry);
      button.addEventListener("click", retry, { once: true });
      status.append(" ", button);
    }
  }

  setStatus(item, text) {
    let status = item.querySelector(".sb-status");
    if (!status) {
      status = el("div", "sb-status");
      item.appendChild(status);
    }
    status.textContent = text;
    return status;
  }

  /** A greeting shown locally before the first message (not part of the stored conversation). */
  greeting(text) {
    const item = this.item("bot", { "data-greeting": "true" });
    item.appendChild(el("span", "sb-sr", {}, this.botName));
    const bubble = el("div", "sb-bubble");
    bubble.appendChild(renderMarkdown(text));
    item.appendChild(bubble);
    return item;
  }

  /** A streamed answer being written: tokens are appended in index order. */
  streaming(streamId) {
    const item = this.item("bot", { "data-stream-id": streamId, "aria-busy": "true" });
    item.classList.add("sb-streaming");
    item.appendChild(el("span", "sb-sr", {}, this.botName));
    item.appendChild(el("div", "sb-bubble"));
    item.tokens = [];
    return item;
  }

  /**
   * Add piece `index` of a streamed answer. Pieces are shown in index order up to the first gap;
   * a `replace` piece discards what came before it (the verifier rejected a sentence).
   */
  appendToken(item, index, text, replace) {
    item.tokens[index] = { text, replace };
    let shown = "";
    for (let i = 0; i < item.tokens.length && item.tokens[i] !== undefined; i++) {
      const piece = item.tokens[i];
      shown = piece.replace ? piece.text : shown + piece.text;
    }
    item.querySelector(".sb-bubble").textContent = shown;
  }

  /** The bot's answer, from a stored `bot` event. */
  bot(data, { feedback }) {
    const item = this.item("bot", { "data-seq": data.seq, "data-message-id": data.message_id });
    item.appendChild(el("span", "sb-sr", {}, this.botName));
    const citations = Array.isArray(data.citations) ? data.citations.filter(Boolean) : [];
    const products = Array.isArray(data.products) ? data.products.filter((p) => p && p.name) : [];
    const text = withoutProductList(withoutSourcesFooter(data.text, citations), products);
    if (text) {
      const bubble = el("div", "sb-bubble");
      bubble.appendChild(renderMarkdown(text, document, citations));
      item.appendChild(bubble);
    }
    const image = safeHref(data.image || "");
    if (image) {
      const img = el("img", "sb-image", { src: image, alt: "", loading: "lazy", decoding: "async" });
      img.referrerPolicy = "no-referrer";
      img.addEventListener("error", () => img.remove(), { once: true });
      item.appendChild(img);
    }
    if (products.length) item.appendChild(this.cards(products));
    if (citations.length) item.appendChild(this.citations(citations));
    const buttons = Array.isArray(data.buttons) ? data.buttons : [];
    if (buttons.length) item.appendChild(this.quickReplies(buttons));
    // Thumbs rate answers; a message with quick replies asks the shopper something (a
    // confirmation, an offer of a human or of FAQ questions) and is answered by a tap instead.
    if (data.message_id && !buttons.length && (text || products.length || image)) {
      item.appendChild(this.feedbackButtons(data.message_id, feedback));
    }
    return item;
  }

  quickReplies(buttons) {
    const group = el("div", "sb-quick-replies", { role: "group", "aria-label": this.texts.suggestions });
    for (const button of buttons) {
      if (!button || !button.title) continue;
      const node = el("button", "sb-chip", { type: "button" }, button.title);
      node.addEventListener("click", () => this.actions.quickReply(button));
      group.appendChild(node);
    }
    return group;
  }

  cards(products) {
    const list = el("ul", "sb-cards", { "aria-label": this.texts.products });
    for (const product of products) {
      if (!product || !product.name) continue;
      const card = el("li", "sb-card");
      const image = safeHref(product.image || "");
      if (image) {
        const img = el("img", "sb-card-image", { src: image, alt: "", loading: "lazy", decoding: "async" });
        img.referrerPolicy = "no-referrer";
        img.addEventListener("error", () => card.classList.add("sb-no-image"), { once: true });
        card.appendChild(img);
      } else {
        card.classList.add("sb-no-image");
      }
      const body = el("div", "sb-card-body");
      const href = safeHref(product.url || "");
      const name = href ? link(document, href, product.name) : el("span", "", {}, product.name);
      name.classList.add("sb-card-name");
      body.appendChild(name);
      const meta = el("div", "sb-card-meta");
      const price = formatPrice(product.price, product.currency, this.lang);
      if (price) meta.appendChild(el("span", "sb-price", {}, price));
      if (product.in_stock === true) meta.appendChild(el("span", "sb-stock sb-in", {}, this.texts.inStock));
      if (product.in_stock === false) meta.appendChild(el("span", "sb-stock sb-out", {}, this.texts.outOfStock));
      body.appendChild(meta);
      // The visible words start the accessible name (WCAG 2.5.3); the product completes it.
      const ask = el("button", "sb-ask", { type: "button" }, this.texts.askAbout);
      ask.appendChild(el("span", "sb-sr", {}, fill(this.texts.askAboutProduct, { name: product.name })));
      ask.addEventListener("click", () => this.actions.askAbout(product));
      body.appendChild(ask);
      card.appendChild(body);
      list.appendChild(card);
    }
    return list;
  }

  citations(citations) {
    const nav = el("div", "sb-sources");
    nav.appendChild(el("span", "sb-sources-label", {}, this.texts.sources));
    const list = el("ol", "sb-source-list", { "aria-label": this.texts.sources });
    for (const citation of citations) {
      const n = citation.n ?? list.children.length + 1;
      const title = citation.title || citation.url || String(n);
      const li = el("li", "sb-source");
      const href = safeHref(citation.url || "");
      const node = href ? link(document, href, "") : el("span");
      node.classList.add("sb-source-link");
      node.setAttribute("title", title);
      node.append(
        el("span", "sb-source-n", { "aria-hidden": "true" }, String(n)),
        el("span", "sb-source-title", {}, title),
      );
      if (citation.kind) node.dataset.kind = citation.kind;
      li.appendChild(node);
      list.appendChild(li);
    }
    nav.appendChild(list);
    return nav;
  }

  feedbackButtons(messageId, current) {
    const group = el("div", "sb-feedback", { role: "group", "aria-label": this.texts.feedback });
    const make = (value, label, d) => {
      const button = el("button", `sb-thumb sb-thumb-${value}`, {
        type: "button",
        "aria-label": label,
        "aria-pressed": String(current === value),
        title: label,
      });
      button.appendChild(icon(d));
      button.addEventListener("click", () => this.actions.feedback(messageId, value, group));
      return button;
    };
    group.appendChild(make("up", this.texts.helpful, THUMB_UP));
    group.appendChild(make("down", this.texts.notHelpful, THUMB_DOWN));
    return group;
  }

  setFeedback(group, value) {
    for (const button of group.querySelectorAll(".sb-thumb")) {
      button.setAttribute("aria-pressed", String(button.classList.contains(`sb-thumb-${value}`)));
    }
  }

  /** A human agent's message. */
  agent(data) {
    const item = this.item("agent", { "data-seq": data.seq, "data-message-id": data.message_id });
    item.appendChild(el("div", "sb-author", {}, data.agent || this.texts.agent));
    const bubble = el("div", "sb-bubble");
    bubble.appendChild(renderMarkdown(data.text));
    item.appendChild(bubble);
    return item;
  }

  /** A centred notice in the log (handoff states, a restarted conversation). */
  notice(text, attrs) {
    const item = this.item("notice", attrs);
    item.appendChild(el("span", "", {}, text));
    return item;
  }

  handoffText(data) {
    if (data.state === "waiting") {
      return Number.isInteger(data.position)
        ? fill(this.texts.waiting, { position: data.position })
        : this.texts.waitingNoPosition;
    }
    if (data.state === "joined") return data.agent ? fill(this.texts.joinedBy, { agent: data.agent }) : this.texts.joined;
    if (data.state === "ended") return this.texts.ended;
    return "";
  }
}
