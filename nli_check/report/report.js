/* nli-check HTML report: selection and filters. Reads only numbers and labels from data-
   attributes; never builds HTML from the input. */
(function () {
  "use strict";
  var ORDER = ["contradiction", "entailment", "neutral"];
  var SYMBOL = { contradiction: "\u2717", entailment: "\u2713", neutral: "\u00b7" };
  var root = document.documentElement;
  root.classList.add("js");

  function all(selector, scope) {
    return Array.prototype.slice.call((scope || document).querySelectorAll(selector));
  }
  function byData(selector, name) {
    var map = {};
    all(selector).forEach(function (el) {
      var key = el.getAttribute(name);
      (map[key] = map[key] || []).push(el);
    });
    return map;
  }

  var findings = all(".finding");
  var cards = byData(".card", "data-claim");
  var claimPieces = byData("mark.claim", "data-claim");
  var evPieces = byData(".ev", "data-ev");
  var boxes = all("#filters input[name=label]");
  var range = document.getElementById("min-confidence");
  var output = document.getElementById("min-confidence-value");
  var status = document.getElementById("filter-status");
  var panel = document.getElementById("panel");
  var selected = null;

  function claimOf(finding) {
    return finding.closest(".card").getAttribute("data-claim");
  }

  /* State of a claim or evidence sentence from its visible findings: the label by precedence
     and that label's highest confidence. */
  function tally(state, key, label, conf) {
    var s = (state[key] = state[key] || {});
    s[label] = Math.max(s[label] || 0, conf);
  }
  function top(s) {
    for (var i = 0; i < ORDER.length; i++) {
      if (s && s[ORDER[i]] !== undefined) return [ORDER[i], s[ORDER[i]]];
    }
    return ["", 0];
  }
  function setLabel(el, prefix, label) {
    ORDER.concat(["other", ""]).forEach(function (l) {
      el.classList.remove(prefix + (l || "off"));
    });
    el.classList.add(prefix + (label || "off"));
  }

  function apply() {
    var wanted = {};
    boxes.forEach(function (b) { wanted[b.value] = b.checked; });
    var min = Number(range.value) / 100;
    output.textContent = range.value + "%";
    var claims = {};
    var evs = {};
    var shown = 0;
    findings.forEach(function (f) {
      var label = f.getAttribute("data-label");
      var conf = Number(f.getAttribute("data-confidence"));
      var visible = wanted[label] !== false && conf + 1e-9 >= min;
      f.hidden = !visible;
      if (!visible) return;
      shown += 1;
      tally(claims, claimOf(f), label, conf);
      tally(evs, f.getAttribute("data-ev"), label, conf);
    });
    var highlighted = 0;
    Object.keys(claimPieces).forEach(function (id) {
      var t = top(claims[id]);
      var mixed = t[0] === "contradiction" && claims[id].entailment !== undefined;
      if (t[0]) highlighted += 1;
      claimPieces[id].forEach(function (el) {
        setLabel(el, "is-", t[0]);
        el.classList.toggle("mixed", mixed);
        el.setAttribute("data-label", t[0]);
        el.setAttribute("data-badge", t[0] ? SYMBOL[t[0]] + " " + Math.round(100 * t[1]) + "%" : "");
        el.style.setProperty("--c", t[1].toFixed(3));
        if (el.classList.contains("first")) {
          el.tabIndex = t[0] ? 0 : -1;
          if (t[0]) el.setAttribute("role", "button"); else el.removeAttribute("role");
        }
      });
    });
    Object.keys(evPieces).forEach(function (id) {
      var t = top(evs[id]);
      evPieces[id].forEach(function (el) { setLabel(el, "is-", t[0]); });
    });
    Object.keys(cards).forEach(function (id) {
      var card = cards[id][0];
      var any = false;
      all(".group", card).forEach(function (g) {
        var n = all(".finding", g).filter(function (f) { return !f.hidden; }).length;
        g.hidden = n === 0;
        g.querySelector(".count").textContent = String(n);
        any = any || n > 0;
      });
      card.querySelector(".all-hidden").hidden = any;
    });
    status.textContent = "Showing " + shown + " of " + findings.length + " findings on " +
      highlighted + " claim" + (highlighted === 1 ? "" : "s") + ".";
  }

  function select(id, focus) {
    if (selected !== null) {
      (cards[selected] || []).forEach(function (c) { c.classList.remove("open"); });
      (claimPieces[selected] || []).forEach(function (el) {
        el.classList.remove("selected");
        if (el.classList.contains("first")) el.setAttribute("aria-expanded", "false");
      });
    }
    selected = id;
    panel.classList.toggle("has-selection", id !== null);
    if (id === null) return;
    (cards[id] || []).forEach(function (c) { c.classList.add("open"); });
    (claimPieces[id] || []).forEach(function (el) {
      el.classList.add("selected");
      if (el.classList.contains("first")) {
        el.setAttribute("aria-expanded", "true");
        if (focus) el.focus();
      }
    });
    if (window.matchMedia("(max-width: 60rem)").matches && cards[id]) {
      cards[id][0].scrollIntoView({ block: "start" });
    }
  }

  function step(delta) {
    var marks = all("mark.claim.first").filter(function (el) {
      return el.getAttribute("data-label");
    });
    if (!marks.length) return;
    var at = -1;
    marks.forEach(function (el, i) { if (el.getAttribute("data-claim") === selected) at = i; });
    var next = at < 0 ? (delta > 0 ? 0 : marks.length - 1) : (at + delta + marks.length) % marks.length;
    var el = marks[next];
    select(el.getAttribute("data-claim"), true);
    el.scrollIntoView({ block: "center" });
  }

  document.addEventListener("click", function (event) {
    var mark = event.target.closest("mark.claim");
    if (mark && mark.getAttribute("data-label")) {
      var id = mark.getAttribute("data-claim");
      select(selected === id ? null : id, false);
      return;
    }
    var link = event.target.closest("a.goto[data-ev]");
    if (link) {
      var target = (evPieces[link.getAttribute("data-ev")] || []);
      target.forEach(function (el) {
        el.classList.remove("flash");
        void el.offsetWidth; /* restart the animation */
        el.classList.add("flash");
      });
    }
  });
  document.addEventListener("keydown", function (event) {
    var tag = event.target.tagName;
    var mark = event.target.closest && event.target.closest("mark.claim");
    if (mark && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      var id = mark.getAttribute("data-claim");
      select(selected === id ? null : id, false);
      return;
    }
    if (tag === "INPUT" || tag === "TEXTAREA" || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    if (event.key === "Escape" && selected !== null) {
      var back = (claimPieces[selected] || [])[0];
      select(null);
      if (back) back.focus();
    } else if (event.key === "j") {
      step(1);
    } else if (event.key === "k") {
      step(-1);
    }
  });
  document.getElementById("prev").addEventListener("click", function () { step(-1); });
  document.getElementById("next").addEventListener("click", function () { step(1); });
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  range.addEventListener("input", apply);
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  apply();
})();
