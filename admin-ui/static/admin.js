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

// Passkeys (WebAuthn): add one on the account page ([data-passkey-register]),
// sign in with one on the login page ([data-passkey-login]). The server's
// options carry binary fields as base64url; the browser wants ArrayBuffers.
(function () {
  "use strict";
  if (!window.PublicKeyCredential) return;

  function toBytes(b64u) {
    var b64 = b64u.replace(/-/g, "+").replace(/_/g, "/");
    var bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64u(buffer) {
    var bytes = new Uint8Array(buffer), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function csrf() {
    var field = document.querySelector('input[name="_csrf"]');
    return field ? field.value : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        return { status: res.status, json: json };
      });
    });
  }
  function fail(button, message) {
    var box = button.parentElement.querySelector('[data-testid="passkey-error"]');
    if (box) { box.textContent = message; box.hidden = false; }
  }
  function credentialJson(cred) {
    var r = cred.response, json = {
      id: cred.id, rawId: toB64u(cred.rawId), type: cred.type,
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64u(r.clientDataJSON) }
    };
    if (r.attestationObject) json.response.attestationObject = toB64u(r.attestationObject);
    if (r.authenticatorData) {
      json.response.authenticatorData = toB64u(r.authenticatorData);
      json.response.signature = toB64u(r.signature);
      if (r.userHandle) json.response.userHandle = toB64u(r.userHandle);
    }
    return json;
  }

  function register(button) {
    var name = document.getElementById("passkey-name");
    post("/_/account/passkeys/register-begin", {}).then(function (begin) {
      if (begin.status !== 200) throw new Error(begin.json.message || "begin failed");
      var pk = begin.json.options.publicKey;
      pk.challenge = toBytes(pk.challenge);
      pk.user.id = toBytes(pk.user.id);
      (pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
      return navigator.credentials.create({ publicKey: pk }).then(function (cred) {
        return post("/_/account/passkeys/register-finish", {
          ceremonyId: begin.json.ceremonyId, credential: credentialJson(cred),
          name: name ? name.value : ""
        });
      });
    }).then(function (finish) {
      if (finish.status !== 200) throw new Error(finish.json.message || "finish failed");
      window.location.reload();
    }).catch(function (err) { fail(button, err.message || String(err)); });
  }

  function signIn(button) {
    var email = document.querySelector('input[name="email"]');
    var mfaId = button.getAttribute("data-mfa-id") || "";
    post("/_/login/passkey-begin", { email: email ? email.value : "", mfaId: mfaId }).then(function (begin) {
      if (begin.status !== 200) throw new Error(begin.json.message || "begin failed");
      var pk = begin.json.options.publicKey;
      pk.challenge = toBytes(pk.challenge);
      (pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
      return navigator.credentials.get({ publicKey: pk }).then(function (cred) {
        return post("/_/login/passkey-finish", {
          ceremonyId: begin.json.ceremonyId, credential: credentialJson(cred),
          mfaId: mfaId, next: button.getAttribute("data-next") || "/_/"
        });
      });
    }).then(function (finish) {
      if (finish.status === 200) { window.location.assign(finish.json.next || "/_/"); return; }
      if (finish.status === 401 && finish.json.mfaId) {
        // MFA wants the password too: the form carries the passkey's session.
        var field = document.querySelector('form[data-testid="login-form"] input[name="mfa_id"]');
        if (field) field.value = finish.json.mfaId;
        fail(button, button.getAttribute("data-then-password") || "");
        return;
      }
      throw new Error(finish.json.message || "sign-in failed");
    }).catch(function (err) { fail(button, err.message || String(err)); });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-passkey-register],[data-passkey-login]");
    if (!target) return;
    event.preventDefault();
    if (target.hasAttribute("data-passkey-register")) register(target); else signIn(target);
  });
})();
