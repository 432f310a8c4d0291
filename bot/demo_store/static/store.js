// The demo store's only script: a product picture that cannot load becomes a placeholder.
// (Served from 'self': the page has no inline script, as its Content-Security-Policy requires.)
function markMissing(img) {
  if (img.parentElement?.classList.contains("picture")) {
    img.parentElement.classList.add("no-image");
    img.remove();
  }
}
document.addEventListener(
  "error",
  (event) => {
    if (event.target instanceof HTMLImageElement) markMissing(event.target);
  },
  true,
);
// Pictures that failed before this deferred script ran.
for (const img of document.querySelectorAll(".picture img")) {
  if (img.complete && img.naturalWidth === 0) markMissing(img);
}
