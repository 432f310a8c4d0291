/*
 * ShopBot widget — the conversation's state in localStorage, shared by the store's tabs.
 *
 * One record per ShopBot server: the signed conversation token, the last sequence number seen,
 * the stored events (for showing the conversation again after a reload, capped), the outbox of
 * messages not yet acknowledged (resent with the same client_id after a reload, so nothing is
 * lost or doubled) and the shopper's feedback. Another tab's writes arrive as `storage` events.
 */

const MAX_EVENTS = 300;
const STORED_TYPES = new Set(["user", "bot", "agent", "handoff"]);

function emptyState() {
  return { token: "", lastSeq: 0, events: [], outbox: [], feedback: {} };
}

export class ConversationStore {
  /**
   * @param {string} server The ShopBot server's URL (one record per server).
   */
  constructor(server) {
    this.key = `shopbot:conversation:${server}`;
    this.memory = emptyState(); // used when localStorage is unavailable (privacy modes)
    this.listeners = [];
    this.onStorage = (event) => {
      if (event.key !== this.key) return;
      const state = this.load();
      for (const listener of this.listeners) listener(state);
    };
    window.addEventListener("storage", this.onStorage);
  }

  /** Call `listener(state)` whenever another tab changes the record. */
  subscribe(listener) {
    this.listeners.push(listener);
  }

  close() {
    window.removeEventListener("storage", this.onStorage);
    this.listeners = [];
  }

  load() {
    try {
      const raw = localStorage.getItem(this.key);
      if (!raw) return emptyState();
      const parsed = JSON.parse(raw);
      return { ...emptyState(), ...(parsed && typeof parsed === "object" ? parsed : {}) };
    } catch {
      return { ...this.memory };
    }
  }

  /** Apply `change(state)` to the freshest record and write it back. */
  update(change) {
    const state = this.load();
    change(state);
    this.memory = state;
    try {
      localStorage.setItem(this.key, JSON.stringify(state));
    } catch {
      /* quota or disabled storage: keep going in memory */
    }
    return state;
  }

  setSession(token, { reset }) {
    return this.update((state) => {
      if (reset) Object.assign(state, emptyState(), { outbox: state.outbox });
      state.token = token;
    });
  }

  /** Remember a stored event (deduplicated by seq) and advance lastSeq. */
  addEvent(type, data) {
    if (!STORED_TYPES.has(type) || !Number.isInteger(data.seq)) return;
    this.update((state) => {
      if (!state.events.some((event) => event.data.seq === data.seq)) {
        state.events.push({ type, data });
        state.events.sort((a, b) => a.data.seq - b.data.seq);
        if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
      }
      state.lastSeq = Math.max(state.lastSeq, data.seq);
      if (type === "user" && data.client_id) {
        state.outbox = state.outbox.filter((item) => item.client_id !== data.client_id);
      }
    });
  }

  queue(message) {
    this.update((state) => {
      if (!state.outbox.some((item) => item.client_id === message.client_id)) state.outbox.push(message);
    });
  }

  unqueue(clientId) {
    this.update((state) => {
      state.outbox = state.outbox.filter((item) => item.client_id !== clientId);
    });
  }

  setFeedback(messageId, value) {
    this.update((state) => {
      if (value) state.feedback[messageId] = value;
      else delete state.feedback[messageId];
    });
  }
}
