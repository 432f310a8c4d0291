/*
 * ShopBot widget — message text to DOM nodes, safely.
 *
 * A tiny markdown subset: **bold**, *italic*, [links](https://…), bare http(s) URLs and line
 * breaks. Every piece of text becomes a Text node (textContent), never HTML; a link is made only
 * for an http(s) URL, so `javascript:` and friends stay plain text.
 */

const INLINE =
  /\*\*(?=\S)([\s\S]+?)\*\*|\*(?=[^\s*])([^*]+?)\*|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])|\[(\d{1,3})\]/g;

/** The URL as an absolute http(s) URL string, or null. */
export function safeHref(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export function link(doc, href, text) {
  const a = doc.createElement("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer nofollow";
  a.textContent = text;
  return a;
}

function inline(doc, text, parent, depth, cites) {
  let last = 0;
  const matches = [...text.matchAll(INLINE)];
  for (const match of matches) {
    if (match.index > last) parent.appendChild(doc.createTextNode(text.slice(last, match.index)));
    const [whole, bold, italic, label, target, bare, cite] = match;
    if (bold !== undefined && depth < 3) {
      const strong = doc.createElement("strong");
      inline(doc, bold, strong, depth + 1, cites);
      parent.appendChild(strong);
    } else if (italic !== undefined && depth < 3) {
      const em = doc.createElement("em");
      inline(doc, italic, em, depth + 1, cites);
      parent.appendChild(em);
    } else if (label !== undefined) {
      const href = safeHref(target);
      parent.appendChild(href ? link(doc, href, label) : doc.createTextNode(whole));
    } else if (bare !== undefined) {
      const href = safeHref(bare);
      parent.appendChild(href ? link(doc, href, bare) : doc.createTextNode(bare));
    } else if (cite !== undefined && cites.has(Number(cite))) {
      parent.appendChild(citationMark(doc, Number(cite), cites.get(Number(cite))));
    } else {
      parent.appendChild(doc.createTextNode(whole));
    }
    last = match.index + whole.length;
  }
  if (last < text.length) parent.appendChild(doc.createTextNode(text.slice(last)));
}

/** A citation marker `[n]`: a small numbered link to the source (plain when it has no URL). */
function citationMark(doc, n, citation) {
  const href = safeHref(citation.url || "");
  const label = `${n}: ${citation.title || citation.url || ""}`.trim();
  const node = href ? link(doc, href, String(n)) : doc.createElement("span");
  if (!href) node.textContent = String(n);
  node.className = "sb-cite";
  node.setAttribute("aria-label", label);
  node.setAttribute("title", label);
  return node;
}

/**
 * Render `text` into a DocumentFragment of text nodes, <strong>, <em>, <a> and <br>.
 *
 * @param {string} text
 * @param {Document} doc
 * @param {Array<{n: number, title: string, url: string}>} citations Sources of the answer: `[n]`
 *     markers become small links to them.
 */
export function renderMarkdown(text, doc = document, citations = []) {
  const cites = new Map(citations.filter((c) => Number.isInteger(c?.n)).map((c) => [c.n, c]));
  const fragment = doc.createDocumentFragment();
  String(text ?? "")
    .split(/\r\n|\r|\n/)
    .forEach((line, index) => {
      if (index) fragment.appendChild(doc.createElement("br"));
      inline(doc, line, fragment, 0, cites);
    });
  return fragment;
}

/**
 * The answer's text without its trailing "Sources: [1] …" paragraph (written for text-only
 * channels) when the sources come as structured citations the widget shows itself.
 */
export function withoutSourcesFooter(text, citations) {
  if (!citations.length) return text;
  return String(text ?? "").replace(/\n*\s*Sources:\s*\[\d+\][\s\S]*$/, "").trimEnd();
}

/**
 * The answer's text without the numbered lines that list the products shown as cards below it
 * ("1. Name — $9.99 (in stock)"), which text-only channels need and the widget does not.
 */
export function withoutProductList(text, products) {
  const names = products.map((p) => String(p?.name || "")).filter(Boolean);
  if (!names.length) return text;
  const kept = String(text ?? "")
    .split("\n")
    .filter((line) => !(/^\s*\d+[.)]\s/.test(line) && names.some((name) => line.includes(name))));
  return kept.join("\n").trimEnd();
}
