/*
 * ShopBot widget — the chat panel, loaded by widget.js when the shopper opens the chat.
 *
 * mount() builds the panel inside the loader's Shadow DOM and wires it together: the stored
 * conversation is drawn again from localStorage, the stream resumes after the last sequence
 * number seen, each stored event is drawn once (by seq), a message shows at once with the typing
 * indicator and is retried with the same client_id until the server has it.
 */

import { Connection, uuid4 } from "./widget-connection.js?v=4eb2b6036e4d";
import { el, fill, icon, MessageRenderer } from "./widget-messages.js?v=4eb2b6036e4d";
import { ConversationStore } from "./widget-storage.js?v=4eb2b6036e4d";

const DEFAULT_TEXTS = {
  title: "Chat with us",
  subtitle: "Ask about products, orders and returns",
  greeting: "Hi! I can help with products, orders, returns and refunds. What can I do for you?",
  botName: "ShopBot",
  you: "You:",
  agent: "Agent",
  placeholder: "Type your message…",
  inputLabel: "Message",
  send: "Send",
  close: "Close chat",
  typing: "{name} is typing…",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  sending: "Sending…",
  notSent: "Not sent.",
  retry: "Retry",
  suggestions: "Suggested replies",
  products: "Products",
  askAbout: "Ask about this",
  askAboutProduct: ": {name}", // read by screen readers after askAbout
  askAboutText: "Tell me about {name}",
  inStock: "In stock",
  outOfStock: "Out of stock",
  sources: "Sources",
  feedback: "Was this answer helpful?",
  helpful: "Helpful",
  notHelpful: "Not helpful",
  waiting: "Waiting for an agent (position {position})",
  waitingNoPosition: "Waiting for an agent",
  joined: "An agent joined",
  joinedBy: "{agent} joined the conversation",
  ended: "The agent left; ShopBot is back",
  leaveQueue: "Back to the assistant",
  newConversation: "Your previous conversation has expired. This is a new one.",
  privacy: "Privacy notice",
  privacyPrefix: "By chatting you agree to our",
  conversation: "Conversation",
};

const TYPING_TIMEOUT_MS = 90000;
const FOCUSABLE = "a[href], button:not([disabled]), textarea:not([disabled]), input:not([disabled]), [tabindex]:not([tabindex='-1'])";

/**
 * Build the chat panel and return its controller ({open, close, toggle}).
 *
 * @param {object} ctx
 * @param {ShadowRoot} ctx.root The loader's shadow root.
 * @param {HTMLButtonElement} ctx.launcher The launcher button (focus returns to it on close).
 * @param {object} ctx.options Options read from the <script> tag by widget.js.
 * @param {(count: number) => void} ctx.onUnread Show the unread count on the launcher.
 * @param {(open: boolean) => void} ctx.onOpenChange
 */
export function mount({ root, launcher, options, onUnread, onOpenChange }) {
  const texts = { ...DEFAULT_TEXTS, ...(options.texts || {}) };
  if (options.storeName && !(options.texts || {}).title) texts.title = options.storeName;
  if (options.greeting) texts.greeting = options.greeting;
  const store = new ConversationStore(options.server);
  const ui = buildPanel(texts, options);
  root.appendChild(ui.panel);
  if (options.position === "left") ui.panel.classList.add("sb-left");

  const state = {
    open: false,
    unread: 0,
    rendered: new Set(), // seqs drawn
    pending: new Map(), // client_id -> item of a message not yet echoed by the stream
    streams: new Map(), // stream_id -> item being written
    finished: new Set(), // stream_ids whose final answer is drawn: late pieces are ignored
    quickReplies: null,
    typingTimer: null,
    restoring: false, // drawing the stored conversation: nothing of it is "unread"
  };

  const renderer = new MessageRenderer({
    texts,
    lang: options.lang,
    botName: texts.botName,
    actions: {
      quickReply: (button) => submit({ payload: button.payload, title: button.title }),
      askAbout: (product) => submit({ text: fill(texts.askAboutText, { name: product.name }) }),
      feedback: sendFeedback,
    },
  });

  const connection = new Connection({
    api: options.api,
    store,
    onEvent: handleEvent,
    onStatus: showStatus,
    onSession: ({ fresh, previous }) => {
      if (!fresh) return;
      resetLog();
      if (previous) append(renderer.notice(texts.newConversation));
    },
  });

  ui.leave.addEventListener("click", async () => {
    ui.leave.disabled = true;
    try {
      await connection.leaveQueue();
      ui.leave.hidden = true;
    } catch {
      // still waiting (or an agent took it meanwhile): the stream tells what happens next
    } finally {
      ui.leave.disabled = false;
    }
  });

  // ---- drawing ---------------------------------------------------------------------------

  function resetLog() {
    ui.log.replaceChildren(renderer.greeting(texts.greeting));
    state.rendered.clear();
    state.streams.clear();
    state.quickReplies = null;
    ui.handoff.hidden = true;
    ui.leave.hidden = true;
    for (const item of state.pending.values()) ui.log.appendChild(item);
  }

  function append(item) {
    const nearBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
    ui.log.appendChild(item);
    if (nearBottom || item.classList.contains("sb-user")) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function setTyping(on) {
    clearTimeout(state.typingTimer);
    ui.typing.hidden = !on;
    if (on) {
      state.typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
      ui.log.scrollTop = ui.log.scrollHeight;
    }
  }

  function showStatus(status) {
    const text = status === "online" ? texts.subtitle : texts[status] || texts.subtitle;
    ui.status.textContent = text;
    ui.panel.dataset.connection = status;
    if (status === "online") retryOutbox();
  }

  function clearQuickReplies() {
    state.quickReplies?.remove();
    state.quickReplies = null;
  }

  function noteUnread() {
    if (state.restoring || (state.open && document.visibilityState === "visible")) return;
    state.unread += 1;
    onUnread(state.unread);
  }

  /** Draw one event; `stored` events carry a seq and are drawn once. */
  function handleEvent(type, data, stored) {
    if (stored) {
      if (state.rendered.has(data.seq)) return;
      state.rendered.add(data.seq);
    }
    switch (type) {
      case "user": {
        const pending = data.client_id && state.pending.get(data.client_id);
        if (pending) {
          renderer.markSent(pending, data.seq);
          state.pending.delete(data.client_id);
        } else if (!ui.log.querySelector(`[data-client-id="${cssId(data.client_id)}"]`)) {
          append(renderer.user(data.text || data.title || "", { clientId: data.client_id, seq: data.seq }));
          clearQuickReplies();
        }
        break;
      }
      case "bot": {
        const item = renderer.bot(data, { feedback: store.load().feedback[data.message_id] });
        const streamed = data.stream_id && state.streams.get(data.stream_id);
        if (data.stream_id) state.finished.add(data.stream_id);
        if (streamed) {
          streamed.replaceWith(item);
          state.streams.delete(data.stream_id);
        } else {
          append(item);
        }
        if (item.querySelector(".sb-quick-replies")) {
          clearQuickReplies();
          state.quickReplies = item.querySelector(".sb-quick-replies");
        }
        setTyping(false);
        noteUnread();
        break;
      }
      case "agent":
        append(renderer.agent(data));
        setTyping(false);
        noteUnread();
        break;
      case "handoff": {
        const text = renderer.handoffText(data);
        if (!text) break;
        append(renderer.notice(text, { "data-seq": data.seq, "data-handoff": data.state }));
        ui.handoff.textContent = text;
        ui.handoff.dataset.state = data.state;
        ui.handoff.hidden = data.state === "ended";
        ui.leave.hidden = data.state !== "waiting";
        if (data.state !== "waiting") setTyping(false);
        break;
      }
      case "typing":
        setTyping(Boolean(data.on));
        break;
      case "token": {
        if (!data.stream_id || state.finished.has(data.stream_id)) break;
        let item = state.streams.get(data.stream_id);
        if (!item) {
          item = renderer.streaming(data.stream_id);
          state.streams.set(data.stream_id, item);
          append(item);
        }
        renderer.appendToken(item, Number(data.index) || 0, String(data.text ?? ""), data.replace === true);
        setTyping(false);
        break;
      }
      default:
        break; // an event this version does not know: ignore
    }
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Show the message and the typing indicator at once, then deliver it (exactly once). */
  function submit(content) {
    const message = { client_id: uuid4(), ...content };
    if (options.customerToken) message.customer_token = options.customerToken;
    const item = renderer.user(content.text ?? content.title ?? "", { clientId: message.client_id, pending: true });
    state.pending.set(message.client_id, item);
    append(item);
    clearQuickReplies();
    setTyping(true);
    store.queue(message);
    deliver(message, item);
  }

  async function deliver(message, item) {
    try {
      const reply = await connection.send(message);
      store.unqueue(message.client_id);
      if (state.pending.has(message.client_id)) renderer.markSent(item, reply.seq);
      // The stream echoes the user event with this seq; drawing it again is skipped.
    } catch (error) {
      setTyping(false);
      if (error.retryable) {
        renderer.markFailed(item, "", () => {
          renderer.markPending(item);
          setTyping(true);
          deliver(message, item);
        });
      } else {
        store.unqueue(message.client_id);
        state.pending.delete(message.client_id);
        renderer.markFailed(item, error.message);
      }
    }
  }

  /** Messages left unacknowledged (a reload, a network outage): send again, same client_id. */
  function retryOutbox() {
    for (const message of store.load().outbox) {
      let item = state.pending.get(message.client_id);
      if (item && !item.classList.contains("sb-failed")) continue; // still being delivered
      if (!item) {
        item = renderer.user(message.text ?? message.title ?? "", { clientId: message.client_id, pending: true });
        state.pending.set(message.client_id, item);
        append(item);
      } else {
        renderer.markPending(item);
      }
      deliver(message, item);
    }
  }

  async function sendFeedback(messageId, value, group) {
    const previous = store.load().feedback[messageId];
    const next = previous === value ? "" : value;
    renderer.setFeedback(group, next);
    store.setFeedback(messageId, next);
    if (!next) return; // un-pressing is local only: the tracker keeps what was sent
    try {
      await connection.feedback(messageId, next);
    } catch {
      renderer.setFeedback(group, previous || "");
      store.setFeedback(messageId, previous || "");
    }
  }

  // ---- the panel -------------------------------------------------------------------------

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = "";
    resizeInput();
    submit({ text });
    ui.input.focus();
  });
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  ui.input.addEventListener("input", resizeInput);
  function resizeInput() {
    ui.input.style.height = "auto"; // CSSOM (allowed under CSP), not a style attribute
    ui.input.style.height = `${Math.min(ui.input.scrollHeight, 120)}px`;
  }
  // Stay at the newest message when the panel changes size (a phone's keyboard opening, a
  // rotation) unless the shopper had scrolled up to read.
  let pinned = true;
  let size = "";
  const measure = () => `${ui.log.clientWidth}x${ui.log.clientHeight}`;
  ui.log.addEventListener("scroll", () => {
    if (measure() !== size) return; // moved by a resize, not by the shopper: the observer decides
    pinned = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
  });
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      size = measure();
      if (pinned) ui.log.scrollTop = ui.log.scrollHeight;
    }).observe(ui.log);
  }
  ui.close.addEventListener("click", () => close());
  ui.panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "Tab") {
      trapFocus(event);
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (state.open && document.visibilityState === "visible") clearUnread();
  });

  /** Keep Tab and Shift+Tab inside the open panel. */
  function trapFocus(event) {
    const focusable = [...ui.panel.querySelectorAll(FOCUSABLE)].filter(
      (node) => !node.closest("[hidden]") && node.getClientRects().length,
    );
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = root.activeElement;
    if (event.shiftKey && (active === first || !ui.panel.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !ui.panel.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  }

  function clearUnread() {
    state.unread = 0;
    onUnread(0);
  }

  function open() {
    if (state.open) return;
    state.open = true;
    ui.panel.hidden = false;
    ui.panel.classList.add("sb-open");
    onOpenChange(true);
    clearUnread();
    ui.log.scrollTop = ui.log.scrollHeight;
    ui.input.focus();
  }

  function close() {
    if (!state.open) return;
    state.open = false;
    ui.panel.hidden = true;
    ui.panel.classList.remove("sb-open");
    onOpenChange(false);
    launcher.focus();
  }

  // ---- start -----------------------------------------------------------------------------

  function restore(saved) {
    state.restoring = true;
    resetLog();
    for (const event of saved.events) handleEvent(event.type, event.data, true);
    connection.lastSeq = Math.max(connection.lastSeq, saved.lastSeq);
    state.restoring = false;
    setTyping(false);
  }

  store.subscribe((saved) => {
    if (connection.follow(saved)) {
      restore(saved); // another tab started a new conversation
      return;
    }
    // Events another tab received first: draw them now (the stream's copies are then skipped).
    for (const event of saved.events) {
      if (event.data.seq > connection.lastSeq) {
        handleEvent(event.type, event.data, true);
        connection.lastSeq = event.data.seq;
      }
    }
  });

  restore(store.load());
  showStatus("connecting");
  connection.session().then(retryOutbox, () => showStatus("reconnecting"));
  connection.start();
  window.addEventListener("online", retryOutbox);
  window.addEventListener("pagehide", () => connection.stop());

  return {
    open,
    close,
    toggle: () => (state.open ? close() : open()),
  };
}

function cssId(value) {
  return String(value ?? "").replace(/["\\]/g, "");
}

function buildPanel(texts, options) {
  const panel = el("section", "sb-panel", {
    role: "dialog",
    "aria-modal": "true",
    "aria-labelledby": "sb-title",
    part: "panel",
  });
  panel.hidden = true;

  const header = el("header", "sb-header");
  const heading = el("div", "sb-heading");
  heading.appendChild(el("h2", "sb-title", { id: "sb-title" }, texts.title));
  const status = el("p", "sb-subtitle", { id: "sb-status" }, texts.subtitle);
  heading.appendChild(status);
  header.appendChild(heading);
  const close = el("button", "sb-close", { type: "button", "aria-label": texts.close, title: texts.close });
  close.appendChild(closeIcon());
  header.appendChild(close);
  panel.appendChild(header);

  const handoff = el("div", "sb-handoff", { role: "status" });
  handoff.hidden = true;
  panel.appendChild(handoff);
  const leave = el("button", "sb-leave", { type: "button" }, texts.leaveQueue);
  leave.hidden = true;
  panel.appendChild(leave);

  const log = el("div", "sb-log", {
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": texts.conversation,
    tabindex: "0",
  });
  panel.appendChild(log);

  const typing = el("div", "sb-typing", { role: "status" });
  const dots = el("span", "sb-dots", { "aria-hidden": "true" });
  dots.append(el("span"), el("span"), el("span"));
  typing.append(dots, el("span", "sb-sr", {}, fill(texts.typing, { name: texts.botName })));
  typing.hidden = true;
  panel.appendChild(typing);

  const form = el("form", "sb-composer", { "aria-label": texts.inputLabel });
  const label = el("label", "sb-sr", { for: "sb-input" }, texts.inputLabel);
  const input = el("textarea", "sb-input", {
    id: "sb-input",
    rows: "1",
    maxlength: "2000",
    placeholder: texts.placeholder,
    autocomplete: "off",
    enterkeyhint: "send",
  });
  const send = el("button", "sb-send", { type: "submit", "aria-label": texts.send, title: texts.send });
  send.appendChild(sendIcon());
  form.append(label, input, send);
  panel.appendChild(form);

  if (options.privacyUrl) {
    const privacy = el("p", "sb-privacy", {}, `${texts.privacyPrefix} `);
    const a = el("a", "", { href: options.privacyUrl, target: "_blank", rel: "noopener noreferrer" }, texts.privacy);
    privacy.appendChild(a);
    panel.appendChild(privacy);
  }
  return { panel, status, handoff, leave, log, typing, form, input, close };
}

function closeIcon() {
  return icon("M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z");
}

function sendIcon() {
  return icon("M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z");
}
