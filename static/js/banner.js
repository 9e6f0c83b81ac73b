// Runs in <head>, before the page is drawn: marks that script runs (the banner's dismiss
// button is shown only then) and hides a dismissed banner so it never flashes. The
// button itself is handled by site.js.
document.documentElement.classList.add("js");
try {
  if (window.localStorage.getItem("paperboy:banner-dismissed") === "1") {
    document.documentElement.classList.add("banner-dismissed");
  }
} catch (e) { /* storage blocked: the banner simply stays */ }
