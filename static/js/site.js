// Small enhancements; every page works without them. No inline script anywhere (CSP).
(function () {
  "use strict";

  // "/" focuses the search box, as on GitHub and Hugging Face, unless the visitor is typing.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
    var box = document.querySelector("input[type=search]");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // The subscribe banner's "Dismiss" button: hide it now and on later pages.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-dismiss-banner]");
    if (!button) return;
    try { window.localStorage.setItem("paperboy:banner-dismissed", "1"); } catch (e) { /* session only */ }
    document.documentElement.classList.add("banner-dismissed");
    var main = document.getElementById("main");
    if (main) main.focus();
  });
})();
