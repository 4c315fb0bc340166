// Planning poker page behaviour: theme toggle, card shortcuts, the skip link,
// connection state, copy buttons, toasts, the everyone-voted cue, the countdown (an
// Alpine component) and the reveal flip.
(function () {
  "use strict";
  var root = document.documentElement;

  // Theme: system preference until the user picks one, then remembered.
  document.addEventListener("click", function (e) {
    var toggle = e.target.closest("[data-testid=theme-toggle]");
    if (toggle) {
      var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem("theme", next); } catch (err) { /* private mode */ }
      return;
    }
    if (e.target.closest("[data-print]")) { window.print(); return; }
    var copy = e.target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.getAttribute("data-copy")).then(function () {
        var label = copy.textContent;
        copy.textContent = copy.getAttribute("data-copied");
        setTimeout(function () { copy.textContent = label; }, 1500);
      });
    }
  });

  // Keyboard: typing a card's keys (shown on the card, computed by the server:
  // room/keys.rs) picks it, not while typing in a field. "8" picks 8; "1" then "3"
  // picks 13; "1" alone picks 1 once no next key came within the pick delay (600 ms),
  // since 13 starts with 1. A name picked by its first letters ignores the rest of
  // it typed in full ("xxl" after "xx" picked XXL). Enter picks a pending card now.
  var typed = "", pending = null, rest = "", keyTimer = null, restTimer = null;
  function handCards() {
    return Array.prototype.slice.call(document.querySelectorAll("#hand [data-testid=card][data-keys]"));
  }
  function pickDelay() {
    var cards = document.querySelector("#hand .cards[data-pick-delay]");
    return cards ? Number(cards.getAttribute("data-pick-delay")) || 600 : 600;
  }
  function showTyping(prefix) {
    var group = document.querySelector("#hand .cards");
    if (group) group.classList.toggle("typing", !!prefix);
    handCards().forEach(function (c) {
      c.classList.toggle("keying", !!prefix && c.getAttribute("data-keys").indexOf(prefix) === 0);
    });
  }
  function keepRest() {
    clearTimeout(restTimer);
    restTimer = setTimeout(function () { rest = ""; }, pickDelay());
  }
  function pickCard(label) {
    clearTimeout(keyTimer);
    typed = ""; pending = null;
    showTyping("");
    var card = handCards().filter(function (c) { return c.getAttribute("data-card") === label; })[0];
    if (!card || card.disabled) return;
    var keys = card.getAttribute("data-keys"), whole = label.toLowerCase();
    rest = whole.indexOf(keys) === 0 ? whole.slice(keys.length) : "";
    keepRest();
    card.focus();
    card.click();
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.key === "Enter" && pending !== null) {
      e.preventDefault();
      pickCard(pending);
      return;
    }
    if (!e.key || e.key.length !== 1 || e.key === " ") return;
    var key = e.key.toLowerCase();
    var cards = handCards().filter(function (c) { return !c.disabled; });
    if (!cards.length) return;
    if (rest && rest.charAt(0) === key) {
      rest = rest.slice(1);
      keepRest();
      e.preventDefault();
      return;
    }
    rest = "";
    var starting = function (prefix) {
      return cards.filter(function (c) { return c.getAttribute("data-keys").indexOf(prefix) === 0; });
    };
    var next = typed + key, found = starting(next);
    if (!found.length && typed) { next = key; found = starting(next); }
    clearTimeout(keyTimer);
    if (!found.length) { typed = ""; pending = null; showTyping(""); return; }
    e.preventDefault();
    typed = next;
    var exact = found.filter(function (c) { return c.getAttribute("data-keys") === next; })[0];
    pending = exact ? exact.getAttribute("data-card") : null;
    if (exact && found.length === 1) { pickCard(pending); return; }
    showTyping(next);
    keyTimer = setTimeout(function () {
      if (pending !== null) pickCard(pending);
      else { typed = ""; showTyping(""); }
    }, pickDelay());
  });

  // The skip link lands on the hand: on the first card one may pick, else the hand.
  document.addEventListener("click", function (e) {
    var skip = e.target.closest && e.target.closest("a[data-skip-cards]");
    if (!skip) return;
    var card = document.querySelector("#hand [data-testid=card]:not([disabled])");
    var target = card || document.getElementById("hand");
    if (!target) return;
    e.preventDefault();
    target.focus();
    target.scrollIntoView({ block: "nearest" });
  });

  // Story queue: moderators drag a story (by its grip) onto another to put it
  // there, or press Alt+↑/Alt+↓ on a story; both send one story_move.
  function moveStory(id, to) {
    var form = document.querySelector("#queue form.story-move");
    if (!form) return;
    form.querySelector("[name=story]").value = id;
    form.querySelector("[name=to]").value = String(Math.max(0, to));
    form.requestSubmit();
  }
  var dragged = null;
  document.addEventListener("dragstart", function (e) {
    var grip = e.target.closest && e.target.closest("#queue .grip");
    if (!grip) return;
    dragged = grip.closest(".story");
    dragged.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", dragged.getAttribute("data-story"));
  });
  document.addEventListener("dragover", function (e) {
    var over = dragged && e.target.closest && e.target.closest("#queue .story");
    if (!over || over === dragged) return;
    e.preventDefault();
    document.querySelectorAll("#queue .drop-before").forEach(function (s) { s.classList.remove("drop-before"); });
    over.classList.add("drop-before");
  });
  document.addEventListener("drop", function (e) {
    var over = dragged && e.target.closest && e.target.closest("#queue .story");
    if (!over || over === dragged) return;
    e.preventDefault();
    moveStory(dragged.getAttribute("data-story"), Number(over.getAttribute("data-pos")));
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll("#queue .drop-before").forEach(function (s) { s.classList.remove("drop-before"); });
  });
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    var story = e.target.closest && e.target.closest("#queue .story");
    if (!story) return;
    var button = story.querySelector(e.key === "ArrowUp" ? "[data-move=up]" : "[data-move=down]");
    if (!button || button.disabled || !button.offsetParent) return;
    e.preventDefault();
    // Focus follows the story to its new place once the queue is redrawn.
    pendingFocus = { id: story.getAttribute("data-story"), pos: story.getAttribute("data-pos"), up: e.key === "ArrowUp" };
    button.click();
  });
  var pendingFocus = null;
  document.addEventListener("htmx:oobAfterSwap", function () {
    if (!pendingFocus) return;
    var story = document.querySelector('#queue .story[data-story="' + CSS.escape(pendingFocus.id) + '"]');
    // Other fragments may be swapped first: wait for the queue that shows the move.
    if (!story || story.getAttribute("data-pos") === pendingFocus.pos) return;
    var button = story.querySelector(pendingFocus.up ? "[data-move=up]" : "[data-move=down]");
    pendingFocus = null;
    if (button && !button.disabled) button.focus();
    else if (story.querySelector("[data-move]:not([disabled])")) story.querySelector("[data-move]:not([disabled])").focus();
  });

  function connection(state) {
    var el = document.querySelector("[data-testid=connection]");
    if (el) el.setAttribute("data-state", state);
  }
  document.addEventListener("htmx:wsOpen", function () { connection("open"); });
  document.addEventListener("htmx:wsClose", function (e) {
    connection("closed");
    // The ws extension retries only transient closes; any other close (kicked,
    // room closed, no seat) is final: keep its toast and offer a reload.
    var code = e.detail && e.detail.event ? e.detail.event.code : 1006;
    if ([1006, 1011, 1012, 1013].indexOf(code) < 0) {
      var el = document.querySelector("[data-testid=connection]");
      if (el) el.setAttribute("data-ended", "true");
      // The room is over for this page: its buttons would do nothing, so they go
      // quiet (inert: no clicks, no focus) until the reader reloads.
      var room = document.querySelector(".room");
      if (room) room.setAttribute("data-ended", "true");
      document.querySelectorAll(".room .play, #participants").forEach(function (part) { part.inert = true; });
      document.querySelectorAll("#toasts .toast").forEach(function (t) { t.setAttribute("data-timed", "sticky"); });
    }
  });
  document.addEventListener("htmx:wsError", function () { connection("closed"); });

  // The host panel stays open across re-renders; the reveal flips once.
  var panelOpen = false;
  var lastPhase = null;
  document.addEventListener("toggle", function (e) {
    if (e.target.matches && e.target.matches("details.manage")) panelOpen = e.target.open;
  }, true);
  // Marks my own row in the participant list (the list is the same for everyone).
  function markMe() {
    var room = document.querySelector(".room[data-me]");
    if (!room) return;
    var row = document.querySelector('#participants [data-pid="' + CSS.escape(room.getAttribute("data-me")) + '"]');
    if (row && !row.querySelector(".badge.you")) {
      var badge = document.createElement("span");
      badge.className = "badge you";
      badge.textContent = room.getAttribute("data-you");
      var who = row.querySelector(".who .name");
      if (who) who.after(" ", badge);
    }
  }
  document.addEventListener("DOMContentLoaded", markMe);

  document.addEventListener("htmx:oobAfterSwap", function () {
    markMe();
    var panel = document.querySelector("details.manage");
    if (panel && panel.open !== panelOpen) panel.open = panelOpen;
    var people = document.getElementById("participants");
    if (people) {
      var phase = people.getAttribute("data-round") + ":" + people.getAttribute("data-phase");
      if (lastPhase && lastPhase !== phase && people.getAttribute("data-phase") === "revealed") {
        people.classList.add("flip");
      }
      lastPhase = phase;
    }
    document.querySelectorAll("#toasts .toast:not([data-timed])").forEach(function (toast) {
      toast.setAttribute("data-timed", "1");
      setTimeout(function () {
        if (toast.getAttribute("data-timed") !== "sticky") toast.remove();
      }, 6000);
    });
  });

  // "Everyone has voted", for moderators: the server marks #controls
  // (data-all-voted) and highlights Reveal; here the polite announcement, and a
  // short chime when the moderator switched the sound on (off by default,
  // remembered in this browser; WebAudio, no sound file).
  var SOUND_KEY = "poker.sound.everyoneVoted";
  var audio = null;
  var allVoted = false;
  function soundOn() {
    try { return localStorage.getItem(SOUND_KEY) === "on"; } catch (err) { return false; }
  }
  function chime() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      audio = audio || new Ctx();
      if (audio.state === "suspended" && audio.resume) audio.resume();
      var start = audio.currentTime;
      [660, 880].forEach(function (freq, i) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        var at = start + i * 0.16;
        osc.type = "sine";
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.3);
        osc.connect(gain).connect(audio.destination);
        osc.start(at);
        osc.stop(at + 0.32);
      });
    } catch (err) { /* no audio here: the visual cue stays */ }
  }
  function syncCue() {
    var toggle = document.querySelector("[data-sound-toggle]");
    if (toggle) toggle.checked = soundOn();
    var controls = document.getElementById("controls");
    var now = !!controls && controls.getAttribute("data-all-voted") === "true";
    var announcer = document.getElementById("announcer");
    if (now && !allVoted) {
      if (announcer) announcer.textContent = announcer.getAttribute("data-everyone-voted");
      if (soundOn()) chime();
    } else if (!now && allVoted && announcer) {
      announcer.textContent = "";
    }
    allVoted = now;
  }
  document.addEventListener("change", function (e) {
    if (!e.target.matches || !e.target.matches("[data-sound-toggle]")) return;
    try { localStorage.setItem(SOUND_KEY, e.target.checked ? "on" : "off"); } catch (err) { /* private mode */ }
    // A user gesture: the moment a browser lets a page start its audio.
    if (e.target.checked) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx && !audio) { try { audio = new Ctx(); } catch (err) { audio = null; } }
      if (audio && audio.state === "suspended" && audio.resume) audio.resume();
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var controls = document.getElementById("controls");
    allVoted = !!controls && controls.getAttribute("data-all-voted") === "true";
    syncCue();
  });
  document.addEventListener("htmx:oobAfterSwap", syncCue);

  // A card that had focus keeps it when the hand is drawn again (after a vote).
  var focusedCard = null;
  document.addEventListener("htmx:oobBeforeSwap", function () {
    var active = document.activeElement;
    focusedCard = active && active.closest && active.closest("#hand [data-testid=card]")
      ? active.getAttribute("data-card") : null;
  });
  document.addEventListener("htmx:oobAfterSwap", function () {
    if (focusedCard === null || (document.activeElement && document.activeElement !== document.body)) return;
    var again = handCards().concat(Array.prototype.slice.call(document.querySelectorAll("#hand [data-testid=card]")))
      .filter(function (c) { return c.getAttribute("data-card") === focusedCard; })[0];
    if (again) again.focus();
  });

  // The countdown: the server sends the deadline and its own clock, so a skewed
  // client clock still counts the right time.
  document.addEventListener("alpine:init", function () {
    window.Alpine.data("countdown", function (deadline, serverNow, duration) {
      return {
        offset: serverNow - Date.now(),
        left: duration,
        running: deadline > 0,
        up: false,
        label: "",
        handle: null,
        init: function () {
          var self = this;
          self.tick();
          if (self.running) self.handle = setInterval(function () { self.tick(); }, 250);
        },
        destroy: function () { if (this.handle) clearInterval(this.handle); },
        tick: function () {
          if (this.running) {
            this.left = Math.max(0, Math.ceil((deadline - (Date.now() + this.offset)) / 1000));
            this.up = this.left === 0;
          }
          var m = Math.floor(this.left / 60), s = this.left % 60;
          this.label = this.up ? this.$el.getAttribute("data-done") : m + ":" + (s < 10 ? "0" : "") + s;
          if (this.up && this.handle) { clearInterval(this.handle); this.handle = null; }
        }
      };
    });
  });
})();
