// The admin UI's small behaviours: dark-mode toggle (remembered in localStorage,
// defaulting to prefers-color-scheme), the sidebar toggle on narrow screens,
// closable flash messages, and loading a JSON file into the import form.
(function () {
  "use strict";
  var root = document.documentElement;

  function setTheme(dark) {
    root.setAttribute("data-theme", dark ? "dark" : "light");
    try { localStorage.setItem("lb-theme", dark ? "dark" : "light"); } catch (e) { /* private mode */ }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest(".theme-toggle")) {
      setTheme(root.getAttribute("data-theme") !== "dark");
      return;
    }
    var toggle = target.closest(".nav-toggle");
    if (toggle) {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        var first = document.querySelector("#sidebar a");
        if (first) first.focus();
      }
      return;
    }
    var close = target.closest(".toast-close");
    if (close && close.parentElement) {
      close.parentElement.remove();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("nav-open")) {
      document.body.classList.remove("nav-open");
      var toggle = document.querySelector(".nav-toggle");
      if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
    }
  });

  // A file input with data-load-into="ID" puts the chosen file's text into
  // the textarea ID (the collections import).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.loadInto || !input.files || !input.files[0]) return;
    var area = document.getElementById(input.dataset.loadInto);
    if (!area) return;
    input.files[0].text().then(function (text) { area.value = text; });
  });

  // Flash messages fade after a while; errors (role=alert) stay.
  window.addEventListener("load", function () {
    document.querySelectorAll(".toast").forEach(function (toast) {
      setTimeout(function () { toast.classList.add("fade"); }, 5000);
    });
  });
})();
