// The admin UI's small behaviours: dark-mode toggle (remembered in localStorage,
// defaulting to prefers-color-scheme), the sidebar toggle on narrow screens,
// and closable flash messages.
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

  // A record form with files chosen is sent as multipart (the CSRF token in its
  // header, as the server wants for multipart); the answer replaces the page, or
  // its redirect is followed. Without files the form posts as usual.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-uploads")) return;
    var chosen = Array.prototype.some.call(form.querySelectorAll("input[type=file]"), function (input) {
      return input.files && input.files.length > 0;
    });
    if (!chosen || !window.fetch || !window.FormData) return;
    event.preventDefault();
    var csrf = form.querySelector("input[name=_csrf]");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-CSRF-Token": csrf ? csrf.value : "" },
      credentials: "same-origin",
    }).then(function (res) {
      if (res.redirected) { window.location.assign(res.url); return null; }
      return res.text().then(function (html) {
        document.open();
        document.write(html);
        document.close();
      });
    }).catch(function () { form.submit(); });
  });

  // Flash messages fade after a while; errors (role=alert) stay.
  window.addEventListener("load", function () {
    document.querySelectorAll(".toast").forEach(function (toast) {
      setTimeout(function () { toast.classList.add("fade"); }, 5000);
    });
  });
})();
