/* countnight: keeps the open page up to date. Plain JavaScript, no framework.
 *
 * The page is complete without this file; it only adds what changed since the page loaded:
 * - listens to the live channel (an EventSource on data-channel: nginx with nchan, or `countnight serve`):
 *   each build's message carries only what changed, numbered; a gap in the numbers is filled from
 *   live/N.json, and a reconnect first catches up from live/head.json (until that catch-up has worked the
 *   page goes on polling, so a failure at any moment of a recovery never leaves it waiting for a push);
 *   a stream that brings nothing, not even the channel's ping, for 2.5 ping intervals is dead though open
 *   (a proxy holding it): the page closes it, catches up from the files and subscribes again from its last id;
 * - where there is no channel, or while it is down, polls live/head.json (a few dozen bytes) every 10 s
 *   while the tab is visible, every 30 s while hidden (data-poll-visible / data-poll-hidden on <main> may
 *   slow it, never below the floor of 5 s and 15 s), then fetches only the messages it missed; backs off
 *   exponentially after failures; stops once coverage has ended. live.json (everything) is loaded once at
 *   the start, and again only after a reset or a long absence;
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

  /* The polling floor: nothing in the page's address, the reader's storage or a theme's attributes can make
     it poll faster than this (a shared link with a tiny interval would multiply the origin's load). */
  var FLOOR_VISIBLE = 5000;
  var FLOOR_HIDDEN = 15000;

  function interval(name, otherwise, floor) {
    var asked = Number(main.getAttribute(name));
    return Math.max(floor, asked > 0 ? asked : otherwise);
  }

  var stream = main.querySelector("[data-stream]");
  var button = main.querySelector("[data-new-updates]");
  var announcer = main.querySelector("[data-announce]");
  var label = document.querySelector("[data-label]");
  var visibleMs = interval("data-poll-visible", 10000, FLOOR_VISIBLE);
  var hiddenMs = interval("data-poll-hidden", 30000, FLOOR_HIDDEN);
  var MAX_DELAY = 5 * 60 * 1000;
  var MAX_STEPS = 30; // further behind than this many messages, one live.json is cheaper
  var liveUrl = new URL(main.getAttribute("data-live"), window.location.href).href.split("?")[0];
  var headUrl = new URL("live/head.json", liveUrl).href;
  var deltaBase = new URL("live/", liveUrl).href;
  var channel = main.getAttribute("data-channel");
  var channelUrl = channel && window.EventSource ? new URL(channel, window.location.href).href : null;
  var baseTitle = document.title;
  var reduceMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };

  var seq = null; // the number of the last message applied (null: not known yet)
  var work = Promise.resolve();
  var failures = 0;
  var timer = null;
  var retry = null;
  var busy = false;
  var stopped = false;
  var pushing = false;
  var opens = 0; // times the channel has opened
  var synced = false; // a catch-up from the files has worked since the channel last opened: pushes alone will do
  var source = null;
  var lost = 0; // times in a row the channel refused the page
  /* The channel's keep-alive: nchan (deploy/nginx.conf) and `countnight serve` send a "ping" event every PING
     seconds, its data that interval. A stream that brings no byte (ping or message) for SILENT_PINGS intervals
     is dead, though still open (a proxy or a network that holds the connection and drops what comes): the
     page closes it, catches up from the files and subscribes again from the last message it had. */
  var PING_MS = 15000; // until a ping says otherwise
  var PING_FLOOR = 1000; // no server's word makes the page give a stream up sooner than 2.5 s
  var SILENT_PINGS = 2.5;
  var watchdog = null;
  var lastId = ""; // the id of the last message the channel sent (the engine's own: nchan's are not ours)
  var offered = false; // the head says this host has a channel (a static host without one: never ask)
  var held = []; // entries not yet on the page, newest first
  var sources = {}; // panel name → its HTML as sent (a lines change applies to it)

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

  /* A panel as live.json or a message carries it: whole, or only its changed lines. False when the page cannot
     apply a lines change (it holds the panel at another revision) and must reload live.json. */
  function applyPanel(name, change) {
    var box = main.querySelector('[data-panel="' + name + '"]');
    if (change.html !== undefined) {
      sources[name] = change.html; // kept even when the page already shows it: a lines change starts from it
    }
    if (!box || box.getAttribute("data-rev") === change.rev) {
      return true;
    }
    if (change.html !== undefined) {
      if (!patchParts(box, change.html)) {
        box.innerHTML = change.html;
      }
    } else if (change.lines !== undefined) {
      var source = sources[name];
      if (source === undefined || box.getAttribute("data-rev") !== change.from) {
        return false;
      }
      var lines = source.split("\n");
      change.lines
        .slice()
        .reverse()
        .forEach(function (cut) {
          Array.prototype.splice.apply(lines, [cut[0], cut[1]].concat(cut[2]));
        });
      sources[name] = lines.join("\n");
      if (!patchParts(box, sources[name])) {
        box.innerHTML = sources[name];
      }
    } else {
      return false; // a change this page does not know how to apply: live.json has the panel whole
    }
    box.setAttribute("data-rev", change.rev);
    return true;
  }

  /* Applies live.json, or one message of the channel (only what changed); false when a panel needs reloading. */
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
    var complete = true;
    Object.keys(panels).forEach(function (name) {
      complete = applyPanel(name, panels[name]) && complete;
    });
    settle(held.length > before);
    if (data.ended) {
      stop();
      if (label) {
        label.textContent = "Coverage ended";
      }
      var refresh = main.querySelector("[data-refresh]");
      if (refresh) {
        refresh.remove();
      }
    }
    return complete;
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

  function stop() {
    stopped = true;
    window.clearTimeout(timer);
    window.clearTimeout(retry);
    window.clearTimeout(watchdog);
    if (source) {
      source.close();
      source = null;
    }
  }

  /* Every change to the page's state goes through one queue, in order: a pushed message, a poll, a reload. */
  function queue(step) {
    work = work.then(step).catch(function () {
      // A network blip or a half-deployed file, while polling or while pushing: the page is not known to be
      // up to date, so it polls (backing off) until a catch-up works, even with the channel open.
      failures += 1;
      synced = false;
      if (!timer && !busy) {
        schedule();
      }
    });
    return work;
  }

  /* Never a conditional request, and never the browser's cached copy: a web server's validators may be coarser
     than the files' changes (nginx's ETag and Last-Modified are the modification time in whole seconds and
     the size), and a head rewritten within the same second at the same length would come back "304 Not
     Modified": the page would believe it had every message and, pushing, wait for the next one. The head is
     a few dozen bytes; the rest is fetched only when it has changed. */
  function getJson(address) {
    return window.fetch(address, { cache: "no-store", credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        var error = new Error(address + ": HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response.json();
    });
  }

  /* The whole live.json (the first load, a reset, a gap too long to fill): then the page is at message `at`. */
  function reload(at) {
    return getJson(liveUrl).then(function (data) {
      apply(data);
      seq = at;
    });
  }

  /* Brings the page up to the newest message: the small head, then only the messages it has not seen. Resolves
     only once the page holds every message the head named: then it is in step (`synced`). */
  function catchUp() {
    var opened = pushing ? opens : -1; // one begun before the channel (last) opened vouches for nothing after
    return getJson(headUrl).then(function (head) {
      offered = head.channel === true;
      if (seq === null || head.seq < seq || head.seq - seq > MAX_STEPS || head.first > seq + 1) {
        return reload(head.seq); // a first load, numbering begun again, or away longer than the files kept
      }
      var next = Promise.resolve();
      for (var n = seq + 1; n <= head.seq; n++) {
        next = next.then(fetchMessage.bind(null, n));
      }
      return next.then(function () {
        settle(false); // nothing new, perhaps, but the reader may have come back to the top
      });
    }, function (error) {
      if (error.status === 404) {
        return reload(seq); // a site built without the channel's files: live.json alone, as it was
      }
      throw error;
    }).then(function () {
      failures = 0;
      synced = pushing && opened === opens;
    });
  }

  function fetchMessage(n) {
    if (n <= seq) {
      return null; // pushed meanwhile
    }
    return getJson(deltaBase + n + ".json").then(take, function (error) {
      if (error.status === 404) {
        return catchUpWhole(); // gone (pruned, or never written): live.json has everything
      }
      throw error;
    });
  }

  function catchUpWhole() {
    return getJson(headUrl).then(function (head) {
      return reload(head.seq);
    });
  }

  /* One message, in its place in the sequence: a gap is filled from the files first. */
  function take(message) {
    if (seq === null) {
      return catchUp(); // the page began without the channel's files: find its place first
    }
    if (stopped || message.seq <= seq) {
      return null;
    }
    if (message.seq !== seq + 1) {
      return catchUp();
    }
    if (message.reset) {
      return reload(message.seq);
    }
    var complete = apply(message);
    seq = message.seq;
    return complete ? null : reload(seq);
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    if (stopped || (pushing && synced)) {
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
    timer = null;
    if (busy || stopped || (pushing && synced)) {
      return;
    }
    busy = true;
    queue(catchUp).then(function () {
      busy = false;
      listen();
      schedule();
    });
  }

  /* Push: the channel's event stream. While it is open, and a catch-up since it opened has worked, the page does
     not poll; when it fails the page polls from the next interval on, and tries the channel again, less often
     the longer it stays away. */
  function listen() {
    if (offered && !source && !retry) {
      connect();
    }
  }

  /* Something came on the stream (its opening, a ping, a message): it is alive for SILENT_PINGS more intervals. */
  function heard() {
    window.clearTimeout(watchdog);
    watchdog = window.setTimeout(silent, PING_MS * SILENT_PINGS);
  }

  function silent() {
    watchdog = null;
    if (!source || stopped) {
      return;
    }
    source.close(); // a closed EventSource is never reopened by the browser: the page subscribes again itself
    source = null;
    pushing = false;
    synced = false;
    main.setAttribute("data-live-mode", "poll");
    window.clearTimeout(timer);
    poll(); // a catch-up from the files now, and polls on in case the new subscription fails too
    connect(); // from the last message had: the engine sends what came after it (the catch-up has it anyway)
  }

  function connect() {
    retry = null;
    if (!channelUrl || stopped || source) {
      return;
    }
    var address = channelUrl;
    if (lastId) {
      // A new EventSource sends no Last-Event-ID of its own: nchan (and the preview) read it from the query too
      address += (address.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(lastId);
    }
    source = new window.EventSource(address);
    heard(); // a stream that never even opens is as dead as one that went silent
    source.addEventListener("ping", function (event) {
      var every = Number(event.data) * 1000;
      if (every > 0) {
        PING_MS = Math.max(PING_FLOOR, every);
      }
      heard();
    });
    source.onopen = function () {
      heard();
      pushing = true;
      synced = false;
      opens += 1;
      main.setAttribute("data-live-mode", "push");
      lost = 0;
      window.clearTimeout(timer);
      timer = null;
      queue(catchUp); // whatever was published while the page was not listening; polls go on until it works
    };
    source.onmessage = function (event) {
      heard();
      if (event.lastEventId) {
        lastId = event.lastEventId;
      }
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      queue(function () {
        return take(message);
      });
    };
    source.onerror = function () {
      var wasPushing = pushing;
      pushing = false;
      synced = false;
      main.setAttribute("data-live-mode", "poll");
      if (source && source.readyState === window.EventSource.CLOSED) {
        window.clearTimeout(watchdog);
        source = null; // refused (no channel here, or it is down): try again later
        window.clearTimeout(retry);
        retry = window.setTimeout(connect, Math.min(MAX_DELAY, visibleMs * Math.pow(2, lost)));
        lost += 1;
      }
      if (wasPushing || (!timer && !busy)) {
        schedule(); // the next poll one interval from now; one already due is not put off
      }
    };
  }

  button.addEventListener("click", function () {
    release(true);
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      settle(false);
      if (!failures && !(pushing && synced)) {
        schedule(0); // catch up at once when the reader comes back
      }
    }
  });

  queue(catchUp).then(function () {
    main.setAttribute("data-live-mode", "poll");
    listen();
    schedule(); // polls until the channel opens (or for good, where there is none)
  });
})();
