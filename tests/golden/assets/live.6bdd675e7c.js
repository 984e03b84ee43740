/* countnight: keeps the open page up to date by polling live.json. Plain JavaScript, no framework.
 *
 * The page is complete without this file; it only adds what changed since the page loaded:
 * - polls live.json every 10 s while the tab is visible, every 30 s while hidden (data-poll-visible /
 *   data-poll-hidden on <main>, or ?poll=MS for tests), with If-None-Match / If-Modified-Since, so an
 *   unchanged file costs a 304; backs off exponentially after failures; stops once coverage has ended;
 * - new entries go in at the top with a brief highlight when the reader is at the top of the stream
 *   and the tab is visible, otherwise they wait behind an "N new updates" button, with "(N)" in the
 *   title, announced politely to screen readers;
 * - corrected entries are replaced in place, withdrawn ones removed, and the summary, key events,
 *   pinned entries, seats and constituencies refreshed; the map hex by hex (only the seats that changed).
 */
(function () {
  "use strict";

  var main = document.querySelector("main[data-live]");
  if (!main || !window.fetch || !window.URLSearchParams || !("content" in document.createElement("template"))) {
    return;
  }
  document.documentElement.classList.add("js");
  if (main.getAttribute("data-ended") === "true") {
    return;
  }

  var stream = main.querySelector("[data-stream]");
  var button = main.querySelector("[data-new-updates]");
  var announcer = main.querySelector("[data-announce]");
  var label = document.querySelector("[data-label]");
  var query = Number(new URLSearchParams(window.location.search).get("poll"));
  var visibleMs = query > 0 ? query : Number(main.getAttribute("data-poll-visible")) || 10000;
  var hiddenMs = query > 0 ? query * 3 : Number(main.getAttribute("data-poll-hidden")) || 30000;
  var MAX_DELAY = 5 * 60 * 1000;
  var url = new URL(main.getAttribute("data-live"), window.location.href).href.split("?")[0];
  var baseTitle = document.title;
  var reduceMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };

  var etag = null;
  var lastModified = null;
  var failures = 0;
  var timer = null;
  var busy = false;
  var stopped = false;
  var held = []; // entries from live.json not yet on the page, newest first

  function articles() {
    return Array.prototype.filter.call(stream.children, function (el) {
      return el.hasAttribute("data-id");
    });
  }

  function shown(id) {
    return stream.querySelector('[data-id="' + window.CSS.escape(id) + '"]');
  }

  /* Newest first: by time, then by id, as the server orders them. */
  function newer(a, b) {
    var ta = Date.parse(a.time);
    var tb = Date.parse(b.time);
    return ta !== tb ? ta > tb : a.id > b.id;
  }

  function keyOf(el) {
    return { time: el.getAttribute("data-time"), id: el.getAttribute("data-id") };
  }

  function element(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = text;
    }, 100);
  }

  function atTop() {
    return document.visibilityState === "visible" && stream.getBoundingClientRect().top > -40;
  }

  function plural(n) {
    return n === 1 ? "1 new update" : n + " new updates";
  }

  function showHeld() {
    if (held.length) {
      button.textContent = plural(held.length);
      button.hidden = false;
      document.title = "(" + held.length + ") " + baseTitle;
    } else {
      button.hidden = true;
      document.title = baseTitle;
    }
  }

  function highlight(el) {
    el.classList.add("is-new");
    window.setTimeout(function () {
      el.classList.remove("is-new");
    }, 6000);
  }

  /* Put an entry in its place; false when it is older than everything here (it belongs to an older page). */
  function place(el) {
    var list = articles();
    var key = keyOf(el);
    for (var i = 0; i < list.length; i++) {
      if (newer(key, keyOf(list[i]))) {
        stream.insertBefore(el, list[i]);
        return true;
      }
    }
    if (list.length) {
      return false;
    }
    var empty = stream.querySelector("[data-empty]");
    if (empty) {
      empty.remove();
    }
    stream.appendChild(el);
    return true;
  }

  function release(fromButton) {
    var added = [];
    held
      .slice()
      .reverse()
      .forEach(function (entry) {
        var el = element(entry.html);
        if (el && place(el)) {
          highlight(el);
          added.push({ el: el, entry: entry });
        }
      });
    held = [];
    showHeld();
    if (!added.length) {
      return;
    }
    var first = added[added.length - 1];
    announce(added.length === 1 ? "New update: " + first.entry.title : plural(added.length) + " added");
    if (fromButton) {
      first.el.setAttribute("tabindex", "-1");
      first.el.focus({ preventScroll: true });
      first.el.scrollIntoView({ block: "start", behavior: reduceMotion.matches ? "auto" : "smooth" });
    }
  }

  function partKey(el) {
    return el.hasAttribute("data-hex") ? "hex " + el.getAttribute("data-hex") : "part " + el.getAttribute("data-map-part");
  }

  /* A panel made of keyed parts (the map: a hex per seat by data-hex, its legend and list by data-map-part)
   * changes part by part: only the hexes whose result changed are replaced, so the rest keep focus and hover.
   * False when the new panel is not made of the same parts (another zoom): then it is replaced whole. */
  function patchParts(box, html) {
    var svg = box.querySelector("svg[viewBox]");
    if (!svg || !box.querySelector("[data-hex]")) {
      return false;
    }
    var template = document.createElement("template");
    template.innerHTML = html;
    var freshSvg = template.content.querySelector("svg[viewBox]");
    var selector = "[data-hex], [data-map-part]";
    var fresh = template.content.querySelectorAll(selector);
    var old = {};
    var count = 0;
    Array.prototype.forEach.call(box.querySelectorAll(selector), function (el) {
      old[partKey(el)] = el;
      count += 1;
    });
    if (!freshSvg || freshSvg.getAttribute("viewBox") !== svg.getAttribute("viewBox") || fresh.length !== count) {
      return false;
    }
    for (var i = 0; i < fresh.length; i++) {
      if (!old[partKey(fresh[i])]) {
        return false;
      }
    }
    Array.prototype.forEach.call(fresh, function (el) {
      var before = old[partKey(el)];
      if (before.outerHTML !== el.outerHTML) {
        before.replaceWith(el);
      }
    });
    return true;
  }

  function apply(data) {
    (data.withdrawn || []).forEach(function (id) {
      var el = shown(id);
      if (el) {
        el.remove();
      }
      held = held.filter(function (h) {
        return h.id !== id;
      });
    });
    var list = articles();
    var oldest = list.length ? keyOf(list[list.length - 1]) : null;
    var before = held.length;
    (data.entries || []).forEach(function (entry) {
      var el = shown(entry.id);
      if (el) {
        if (el.getAttribute("data-rev") !== entry.rev) {
          var fresh = element(entry.html);
          if (fresh) {
            el.replaceWith(fresh);
            highlight(fresh);
          }
        }
        return;
      }
      var waiting = held.filter(function (h) {
        return h.id === entry.id;
      })[0];
      if (waiting) {
        held[held.indexOf(waiting)] = entry;
      } else if (!oldest || newer(entry, oldest)) {
        held.push(entry);
      }
    });
    held.sort(function (a, b) {
      return newer(a, b) ? -1 : 1;
    });
    var panels = data.panels || {};
    Object.keys(panels).forEach(function (name) {
      var box = main.querySelector('[data-panel="' + name + '"]');
      if (box && box.getAttribute("data-rev") !== panels[name].rev) {
        if (!patchParts(box, panels[name].html)) {
          box.innerHTML = panels[name].html;
        }
        box.setAttribute("data-rev", panels[name].rev);
      }
    });
    settle(held.length > before);
    if (data.ended) {
      stopped = true;
      if (label) {
        label.textContent = "Coverage ended";
      }
      var refresh = main.querySelector("[data-refresh]");
      if (refresh) {
        refresh.remove();
      }
    }
  }

  /* Held entries go in once the reader is at the top of a visible page; until then the button counts them. */
  function settle(more) {
    if (held.length && atTop()) {
      release(false);
      return;
    }
    showHeld();
    if (more) {
      announce(plural(held.length) + ": use the button at the top of the live updates to show them");
    }
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    if (stopped) {
      return;
    }
    if (delay === undefined) {
      delay = document.visibilityState === "visible" ? visibleMs : hiddenMs;
      if (failures) {
        delay = Math.min(MAX_DELAY, delay * Math.pow(2, failures));
      }
    }
    timer = window.setTimeout(poll, delay);
  }

  function poll() {
    if (busy || stopped) {
      return;
    }
    busy = true;
    var headers = {};
    if (etag) {
      headers["If-None-Match"] = etag;
    }
    if (lastModified) {
      headers["If-Modified-Since"] = lastModified;
    }
    window
      .fetch(url, { cache: "no-store", headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 304) {
          return null;
        }
        if (!response.ok) {
          throw new Error("live.json: HTTP " + response.status);
        }
        etag = response.headers.get("ETag");
        lastModified = response.headers.get("Last-Modified");
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        if (data) {
          apply(data);
        } else {
          settle(false); // unchanged, but the reader may have come back to the top
        }
      })
      .catch(function () {
        failures += 1; // a network blip or a half-deployed file: try again later, more slowly
      })
      .then(function () {
        busy = false;
        schedule();
      });
  }

  button.addEventListener("click", function () {
    release(true);
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      settle(false);
      if (!failures) {
        schedule(0); // catch up at once when the reader comes back
      }
    }
  });

  schedule();
})();
