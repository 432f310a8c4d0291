/*
 * ShopBot widget — talking to the widget channel (bot/channels/widget.py).
 *
 * HTTP in (session, messages, feedback) and a Server-Sent Events stream out, read with fetch()
 * so the conversation token travels in the Authorization header rather than the URL. The stream
 * resumes after the last sequence number seen and reconnects with backoff; messages are retried
 * with the same client_id, which the server deduplicates: nothing is lost, nothing doubles.
 */

const STREAM_IDLE_MS = 45000; // the server pings every 15 s: this much silence means a dead link
const MAX_BACKOFF_MS = 15000;

export class RequestError extends Error {
  constructor(status, reason) {
    super(reason || `HTTP ${status}`);
    this.status = status;
    this.retryable = status === 0 || status === 408 || status === 429 || status >= 500;
  }
}

/** Exponential backoff with jitter: 0.5 s, 1 s, 2 s … up to 15 s. */
export function backoff(attempt) {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** A random UUID v4 (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function uuid4() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream format).
 * `push(text)` takes decoded chunks; `onEvent({event, data, id})` gets each complete event.
 */
export class EventStreamParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.event = "";
    this.data = [];
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop(); // an unfinished line waits for the next chunk
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") {
      if (this.data.length) {
        this.onEvent({ event: this.event || "message", data: this.data.join("\n"), id: this.id });
      }
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // a comment (": ping")
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id") this.id = value;
  }
}

export class Connection {
  /**
   * @param {object} args
   * @param {string} args.api The widget channel's base URL (…/webhooks/widget).
   * @param {import("./widget-storage.js").ConversationStore} args.store
   * @param {(type: string, data: object, stored: boolean) => void} args.onEvent
   * @param {(status: string) => void} args.onStatus "connecting" | "online" | "reconnecting"
   * @param {(info: {fresh: boolean, previous: boolean}) => void} args.onSession
   */
  constructor({ api, store, onEvent, onStatus, onSession }) {
    this.api = api;
    this.store = store;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onSession = onSession;
    this.token = store.load().token;
    this.lastSeq = store.load().lastSeq;
    this.running = false;
    this.streamAbort = null;
    this.sessionPromise = null;
  }

  /** Resume the stored conversation (refreshing its token) or start a new one. */
  session() {
    if (!this.sessionPromise) {
      this.sessionPromise = this.openSession().finally(() => {
        this.sessionPromise = null;
      });
    }
    return this.sessionPromise;
  }

  async openSession() {
    const previous = this.store.load().token;
    if (previous) {
      try {
        const reply = await this.request("POST", "/session", { conversation: previous }, { auth: false });
        this.adopt(reply.conversation, false);
        return;
      } catch (error) {
        if (error.retryable) throw error; // the server is unreachable: keep the conversation
      }
    }
    const reply = await this.request("POST", "/session", {}, { auth: false });
    this.adopt(reply.conversation, true, Boolean(previous));
  }

  adopt(token, fresh, previous = false) {
    this.token = token;
    this.store.setSession(token, { reset: fresh });
    if (fresh) this.lastSeq = 0;
    this.onSession({ fresh, previous });
  }

  /** Another tab started a different conversation: follow it. */
  follow(state) {
    if (state.token && state.token !== this.token) {
      this.token = state.token;
      this.lastSeq = state.lastSeq;
      this.restartStream();
      return true;
    }
    return false;
  }

  async request(method, path, body, { auth = true, signal } = {}) {
    const headers = { "Content-Type": "application/json" };
    if (auth) headers.Authorization = `Bearer ${this.token}`;
    let response;
    try {
      response = await fetch(this.api + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new RequestError(0, "network error");
    }
    if (response.status === 204) return {};
    let payload = {};
    try {
      payload = await response.json();
    } catch {
      payload = {};
    }
    if (!response.ok) throw new RequestError(response.status, payload.error);
    return payload;
  }

  /**
   * POST a message, retrying network and server errors with the same client_id until the server
   * acknowledges it; a 401 renews the session once. Rejects with a non-retryable RequestError.
   */
  async send(message, { attempts = 8 } = {}) {
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.token) await this.session();
        return await this.request("POST", "/messages", message);
      } catch (error) {
        if (error.status === 401 && !renewed) {
          renewed = true;
          await this.session();
          continue;
        }
        if (!error.retryable || attempt + 1 >= attempts) throw error;
        await sleep(backoff(attempt));
      }
    }
  }

  /** Leave the queue for a human agent and go back to the assistant. */
  leaveQueue() {
    return this.request("POST", "/handoff/leave", {});
  }

  feedback(messageId, value) {
    return this.request("POST", "/feedback", { message_id: messageId, value });
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.streamLoop();
  }

  stop() {
    this.running = false;
    this.streamAbort?.abort();
  }

  /** Drop the current stream and connect again at once (new token, back online). */
  restartStream() {
    this.reconnectNow = true;
    this.streamAbort?.abort();
  }

  async streamLoop() {
    let failures = 0;
    while (this.running) {
      const controller = new AbortController();
      this.streamAbort = controller;
      this.reconnectNow = false;
      this.onStatus(failures ? "reconnecting" : "connecting");
      let opened = 0;
      try {
        if (!this.token) await this.session();
        const response = await fetch(`${this.api}/stream?after=${this.lastSeq}`, {
          headers: { Authorization: `Bearer ${this.token}`, Accept: "text/event-stream" },
          credentials: "omit",
          cache: "no-store",
          signal: controller.signal,
        });
        if (response.status === 401) {
          await this.session(); // expired or forged: resume (refresh) or start anew
          continue;
        }
        if (!response.ok || !response.body) throw new RequestError(response.status);
        opened = Date.now();
        this.onStatus("online");
        await this.read(response.body, controller);
      } catch (error) {
        if (!this.running) return;
        if (error?.name !== "AbortError") console.debug("ShopBot stream dropped:", error);
      }
      if (!this.running) return;
      if (this.reconnectNow) {
        failures = 0;
        continue;
      }
      // A stream that stayed up a while was healthy: reconnect at once. One that keeps dying
      // young (or never opens) backs off, so a broken server is not hammered.
      failures = opened && Date.now() - opened > 10000 ? 0 : failures + 1;
      this.onStatus("reconnecting");
      if (failures) await this.pause(backoff(failures - 1));
    }
  }

  /** Wait `ms`, or less when the browser comes back online. */
  async pause(ms) {
    const wake = new AbortController();
    const onOnline = () => wake.abort();
    window.addEventListener("online", onOnline);
    try {
      await sleep(ms, wake.signal);
    } finally {
      window.removeEventListener("online", onOnline);
    }
  }

  async read(body, controller) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new EventStreamParser((event) => this.dispatch(event));
    let idle = setTimeout(() => controller.abort(), STREAM_IDLE_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(idle);
        idle = setTimeout(() => controller.abort(), STREAM_IDLE_MS);
        parser.push(decoder.decode(value, { stream: true }));
      }
    } finally {
      clearTimeout(idle);
      reader.cancel().catch(() => {});
    }
  }

  dispatch({ event, data, id }) {
    let payload;
    try {
      payload = JSON.parse(data);
    } catch {
      return;
    }
    if (id !== null && id !== "") {
      const seq = Number(id);
      if (!Number.isInteger(seq) || seq <= this.lastSeq) return; // seen already
      payload.seq = seq;
      this.lastSeq = seq;
      this.store.addEvent(event, payload);
      this.onEvent(event, payload, true);
    } else {
      this.onEvent(event, payload, false);
    }
  }
}
