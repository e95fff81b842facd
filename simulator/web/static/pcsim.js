/* Partner Connect Simulator pages: a little progressive enhancement, nothing required to use them.
   Ids (64-bit workspace and user ids) are never parsed as numbers here: they stay strings. */
(function () {
  "use strict";

  // Close the header's "Switch user or workspace" menu with Escape.
  document.querySelectorAll("details.switcher").forEach(function (menu) {
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });

  // Reveal a secret shown on this page only (the PAT minted by this connect).
  document.querySelectorAll("button[data-reveal]").forEach(function (button) {
    button.addEventListener("click", function () {
      var cell = button.parentElement;
      var full = cell.querySelector("[data-secret-full]");
      var masked = cell.querySelector("[data-secret-masked]");
      var show = full.hidden;
      full.hidden = !show;
      masked.hidden = show;
      button.textContent = show ? "Hide" : "Reveal";
      button.setAttribute("aria-expanded", show ? "true" : "false");
    });
  });

  // The catalog picker updates the grants listed in step 1.
  document.querySelectorAll("select[data-catalog-select]").forEach(function (select) {
    select.addEventListener("change", function () {
      document.querySelectorAll("[data-catalog-name]").forEach(function (el) { el.textContent = select.value; });
    });
  });

  // Gallery search filters tiles as you type (the form still works without JavaScript).
  document.querySelectorAll("input[data-live-filter]").forEach(function (input) {
    var empty = document.querySelector("[data-live-empty]");
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      var shown = 0;
      document.querySelectorAll(input.getAttribute("data-live-filter")).forEach(function (tile) {
        var match = !needle || tile.getAttribute("data-name").indexOf(needle) !== -1;
        tile.hidden = !match;
        if (match) { shown += 1; }
      });
      document.querySelectorAll("section.category").forEach(function (section) {
        section.hidden = !section.querySelector(".tile:not([hidden])");
      });
      if (empty) { empty.hidden = shown !== 0; }
    });
  });

  // After a successful connect, open the partner's redirect in a new tab (allowed redirects only:
  // the server renders the link only then). If the browser blocks the tab, say so.
  var state = "none";
  var link = document.querySelector("a[data-auto-open]");
  if (link) {
    var tab = window.open(link.href, "_blank");
    if (tab) {
      try { tab.opener = null; } catch (e) { /* cross-origin: nothing to do */ }
      state = "opened";
    } else {
      state = "popup-blocked";
      var note = document.querySelector("[data-popup-blocked]");
      if (note) { note.hidden = false; }
    }
  }
  document.body.setAttribute("data-redirect-state", state);
})();
