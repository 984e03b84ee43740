// The desk works without this file. With it: the preview and the checks follow the reporter's typing,
// and an entry's page follows it until it is live. No inline script anywhere (the CSP forbids it).
(function () {
  "use strict";

  function followPreview(form) {
    var url = form.getAttribute("data-preview");
    var box = document.getElementById("preview");
    var touched = {};
    var timer = null;
    var asked = 0;

    function votesLeft() {
      var inputs = form.querySelectorAll(".candidate input[inputmode=numeric]");
      for (var i = 0; i < inputs.length; i++) if (!inputs[i].value.trim()) return true;
      return false;
    }

    function show(errors) {
      var boxes = form.querySelectorAll("[data-field]");
      for (var i = 0; i < boxes.length; i++) {
        var key = boxes[i].getAttribute("data-field");
        var text = document.getElementById("err-" + key);
        var input = document.getElementById("f-" + key);
        var whole = !input; // candidates, form: only once every listed candidate has votes
        var shown = errors[key] && (touched[key] || (whole && !votesLeft())) ? errors[key].join("; ") : "";
        if (text) text.textContent = shown;
        boxes[i].classList.toggle("has-err", shown !== "");
        if (input) {
          if (shown) input.setAttribute("aria-invalid", "true");
          else input.removeAttribute("aria-invalid");
        }
      }
    }

    function ask() {
      var mine = ++asked;
      var data = new FormData(form);
      var chosen = form.elements.photo && form.elements.photo.files && form.elements.photo.files.length;
      data.delete("photo"); // the preview is of the words: the photo goes only with Send (at most 25 MB)
      if (chosen) data.append("has_photo", "1");
      fetch(url, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || mine !== asked) return;
          show(data.errors || {});
          box.textContent = "";
          if (data.preview) {
            var h = document.createElement("h2");
            h.textContent = "As readers will see it";
            box.appendChild(h);
            var card = document.createElement("div");
            card.innerHTML = data.preview; // the page's own card, rendered and escaped by the server
            box.appendChild(card);
          }
        })
        .catch(function () {});
    }

    form.addEventListener("input", function (event) {
      if (event.target && event.target.name) touched[event.target.name] = true;
      clearTimeout(timer);
      timer = setTimeout(ask, 250);
    });
  }

  function followState(el) {
    var url = el.getAttribute("data-status");
    var until = Date.now() + 10 * 60 * 1000;
    function poll() {
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          el.textContent = data.words;
          el.className = "state state--" + data.state;
          if (data.state !== "live" && data.state !== "gone" && Date.now() < until) setTimeout(poll, 1000);
        })
        .catch(function () { if (Date.now() < until) setTimeout(poll, 3000); });
    }
    if (!/state--(live|gone)/.test(el.className)) setTimeout(poll, 500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-preview]");
    if (form && window.fetch && window.FormData) followPreview(form);
    var state = document.querySelector("[data-status]");
    if (state && window.fetch) followState(state);
  });
})();
