/* countnight: posts and videos from other services, loaded only when the reader allows them.
 *
 * Each embed arrives as a card with a link (partials/embed.html): without this file that is all it is, and
 * nothing of the service is ever requested. With it, the card shows the consent step ("Allow X content?",
 * the service's privacy note and policy); on "Accept and continue" the service's embed loads in a sandboxed
 * frame. Ticking "Remember my choice" keeps the choice for that service in localStorage (only then), and every
 * embed of that service, on this page and on pages opened later, loads at once. Entries the live page inserts
 * later (live.js, the live channel) are treated the same: clicks are caught on the document, and new
 * embeds are found as they are added.
 *
 * A remembered choice is taken back as easily as it was given: each frame of a remembered service has a
 * "Stop loading X content automatically" button under it, and the footer lists the remembered services under
 * "Embedded content settings", each with the same button. Either forgets the choice in storage and puts the
 * card and its consent step back in place of every frame of that service on the page (the frame is removed,
 * so nothing more is asked of the service); focus goes to the consent question, or to the footer's status.
 * Taken back in another tab, the frames this page loaded by that choice go too.
 *
 * The frame's address comes from the page, made by the build from a checked address (embeds.py); it is loaded
 * only from that service's own embed origin below (the list the Content-Security-Policy allows as frame
 * sources), with the same sandbox, whatever the page says. Frames are sized by service (style.css): YouTube
 * and TikTok keep their video's aspect ratio, Facebook a fixed height (its plugin says nothing of its size to a
 * page without Facebook's script). X, Instagram and Bluesky tell their parent how tall the post is, each in its
 * own message (HEIGHTS): a message is heeded only from the very frame it sizes, from that service's origin
 * exactly, and only as a number of pixels within bounds.
 */
(function () {
  "use strict";

  var ORIGINS = {
    x: "https://platform.twitter.com",
    bluesky: "https://embed.bsky.app",
    youtube: "https://www.youtube-nocookie.com",
    instagram: "https://www.instagram.com",
    facebook: "https://www.facebook.com",
    tiktok: "https://www.tiktok.com"
  };
  // As the consent step names them (embeds.PROVIDERS): the footer lists services whose posts this page may lack.
  var NAMES = { x: "X", bluesky: "Bluesky", youtube: "YouTube", instagram: "Instagram", facebook: "Facebook", tiktok: "TikTok" };
  var SANDBOX = "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox";
  var REFERRER = "strict-origin";
  var ALLOW = { youtube: "fullscreen; picture-in-picture; encrypted-media", tiktok: "fullscreen; encrypted-media" };
  var KEY = "countnight.embeds"; // {"youtube": true, ...}: the services the reader chose to allow every time
  // A post's frame is never shorter than a line of text with its footer, nor longer than a few screens; a
  // height beyond ABSURD is no post's (a broken or hostile message) and is ignored rather than capped.
  var MIN_HEIGHT = 120;
  var MAX_HEIGHT = 3000;
  var ABSURD = 20000;

  // What each service's embed posts to its parent, and where it says the post's height.
  var HEIGHTS = {
    // platform.twitter.com/embed/Tweet.html, as widgets.js hears it: a JSON-RPC call to twttr.private.resize
    // whose first parameter is {height, width}.
    x: function (message) {
      var call = message["twttr.embed"];
      var params = call && call.method === "twttr.private.resize" && call.params;
      return params && params[0] && typeof params[0] === "object" ? params[0].height : null;
    },
    // www.instagram.com/p/ID/embed/, as Instagram's embed.js hears it: {"type": "MEASURE", "details": {height}}.
    instagram: function (message) {
      return message.type === "MEASURE" && message.details && typeof message.details === "object"
        ? message.details.height
        : null;
    },
    // embed.bsky.app, as Bluesky's embed.js hears it: {height, id}.
    bluesky: function (message) {
      return message.height;
    }
  };

  if (!window.URL || !document.querySelectorAll) {
    return;
  }

  function each(list, action) {
    Array.prototype.forEach.call(list, action);
  }

  function remembered() {
    try {
      var value = JSON.parse(window.localStorage.getItem(KEY) || "{}");
      return value && typeof value === "object" ? value : {};
    } catch (e) {
      return {}; // storage blocked or garbled: ask every time
    }
  }

  function store(value) {
    try {
      if (Object.keys(value).length) {
        window.localStorage.setItem(KEY, JSON.stringify(value));
      } else {
        window.localStorage.removeItem(KEY); // nothing remembered: nothing kept
      }
    } catch (e) {
      /* storage blocked: the choice holds for this page only */
    }
  }

  function remember(provider) {
    var value = remembered();
    value[provider] = true;
    store(value);
  }

  function forget(provider) {
    var value = remembered();
    delete value[provider];
    store(value);
  }

  function nameOf(provider) {
    return NAMES[provider];
  }

  function allowedSource(provider, address) {
    var url;
    try {
      url = new URL(address);
    } catch (e) {
      return null;
    }
    return ORIGINS.hasOwnProperty(provider) && url.origin === ORIGINS[provider] ? url.href : null;
  }

  function forgetButton(provider) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "embed__forget";
    button.setAttribute("data-embed-forget", provider);
    button.textContent = "Stop loading " + nameOf(provider) + " content automatically";
    return button;
  }

  // Under each loaded frame of a remembered service, the button that takes the choice back; none otherwise.
  function mark(figure, allowed) {
    var provider = figure.getAttribute("data-embed");
    var row = figure.querySelector(".embed__withdraw");
    var wanted = figure.hasAttribute("data-embed-loaded") && allowed[provider] === true;
    if (wanted && !row) {
      row = document.createElement("p");
      row.className = "embed__withdraw";
      row.appendChild(forgetButton(provider));
      figure.appendChild(row);
    } else if (!wanted && row) {
      row.remove();
    }
  }

  function load(figure) {
    if (figure.hasAttribute("data-embed-loaded")) {
      return;
    }
    var provider = figure.getAttribute("data-embed");
    var source = allowedSource(provider, figure.getAttribute("data-embed-src") || "");
    if (!source) {
      return;
    }
    // Why it loaded: a remembered choice (taken back in another tab, the frame goes there too) or this once.
    figure.setAttribute("data-embed-loaded", remembered()[provider] === true ? "remembered" : "once");
    var frame = document.createElement("iframe");
    frame.setAttribute("sandbox", SANDBOX);
    frame.setAttribute("referrerpolicy", REFERRER);
    if (ALLOW[provider]) {
      frame.setAttribute("allow", ALLOW[provider]);
    }
    frame.setAttribute("title", (figure.getAttribute("data-embed-name") || "Embedded") + " content");
    frame.className = "embed__frame embed__frame--" + provider;
    frame.src = source;
    var consent = figure.querySelector("[data-embed-consent]");
    if (consent) {
      consent.hidden = true; // kept, to come back if the reader takes the choice back
    }
    figure.appendChild(frame);
    mark(figure, remembered());
  }

  // The card and its consent step back in place of the frame: removing the frame ends its document, so the
  // service is asked for nothing more.
  function unload(figure) {
    each(figure.querySelectorAll("iframe.embed__frame, .embed__withdraw"), function (node) {
      node.remove();
    });
    figure.removeAttribute("data-embed-loaded");
    var box = figure.querySelector("[data-embed-remember]");
    if (box) {
      box.checked = false;
    }
    var consent = figure.querySelector("[data-embed-consent]");
    if (consent) {
      consent.hidden = false;
    }
  }

  // The footer's "Embedded content settings": the services whose content loads without asking, each with the
  // button that stops it. Shown while there is one, or something to say about one just forgotten.
  var settings = null;

  function settingsPanel() {
    var footer = document.querySelector("footer .wrap") || document.querySelector("footer");
    if (!settings && footer) {
      settings = document.createElement("section");
      settings.className = "embed-settings";
      settings.setAttribute("aria-labelledby", "embed-settings-title");
      settings.setAttribute("data-embed-settings", "");
      settings.innerHTML =
        '<h2 class="embed-settings__title" id="embed-settings-title">Embedded content settings</h2>' +
        '<p class="embed-settings__intro"></p><ul class="embed-settings__list"></ul>' +
        '<p class="embed-settings__status" role="status" tabindex="-1"></p>';
      footer.appendChild(settings);
    }
    return settings;
  }

  function listSettings() {
    var panel = settingsPanel();
    if (!panel) {
      return;
    }
    var allowed = remembered();
    var providers = Object.keys(ORIGINS).filter(function (provider) {
      return allowed[provider] === true;
    });
    var list = panel.querySelector(".embed-settings__list");
    list.textContent = "";
    providers.forEach(function (provider) {
      var item = document.createElement("li");
      item.appendChild(forgetButton(provider));
      list.appendChild(item);
    });
    list.hidden = providers.length === 0;
    panel.querySelector(".embed-settings__intro").textContent = providers.length
      ? "You chose to load content from these services without being asked each time:"
      : "No service’s content loads without asking you first.";
    panel.hidden = providers.length === 0 && !panel.querySelector(".embed-settings__status").textContent;
  }

  function sync() {
    var allowed = remembered();
    each(document.querySelectorAll("[data-embed]"), function (figure) {
      mark(figure, allowed);
    });
    listSettings();
  }

  function prepare(root) {
    var figures = root.matches && root.matches("[data-embed]") ? [root] : root.querySelectorAll("[data-embed]");
    var allowed = remembered();
    each(figures, function (figure) {
      if (figure.hasAttribute("data-embed-loaded")) {
        return;
      }
      if (allowed[figure.getAttribute("data-embed")] === true) {
        load(figure);
        return;
      }
      var consent = figure.querySelector("[data-embed-consent]");
      if (consent) {
        consent.hidden = false;
      }
    });
  }

  function figuresOf(provider) {
    return Array.prototype.filter.call(document.querySelectorAll("[data-embed]"), function (figure) {
      return figure.getAttribute("data-embed") === provider;
    });
  }

  function allow(button) {
    var figure = button.closest("[data-embed]");
    var provider = figure.getAttribute("data-embed");
    var box = figure.querySelector("[data-embed-remember]");
    if (box && box.checked) {
      remember(provider);
      figuresOf(provider).forEach(load);
      sync();
    } else {
      load(figure);
    }
    var frame = figure.querySelector("iframe.embed__frame");
    if (frame) {
      frame.focus(); // the button is gone with its consent step: the reader goes on to what it loaded
    }
  }

  function withdraw(button) {
    var provider = button.getAttribute("data-embed-forget");
    var figure = button.closest("[data-embed]");
    forget(provider);
    figuresOf(provider).forEach(unload);
    var panel = settingsPanel();
    var status = panel && panel.querySelector(".embed-settings__status");
    if (status) {
      status.textContent = nameOf(provider) + " content will no longer load without asking you first.";
    }
    sync(); // the buttons, and the footer's list: shown while it has the status to say
    // Focus where the reader was: the consent question that took the frame's place, else the footer's status.
    var ask = figure && figure.querySelector(".embed__ask");
    var target = ask || status;
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target.closest && target.closest("[data-embed-allow]");
    if (button && button.closest("[data-embed]")) {
      allow(button);
      return;
    }
    button = target.closest && target.closest("[data-embed-forget]");
    if (button && ORIGINS.hasOwnProperty(button.getAttribute("data-embed-forget"))) {
      withdraw(button);
    }
  });

  function parsed(data) {
    if (typeof data === "string") {
      if (data.charAt(0) !== "{") {
        return null;
      }
      try {
        data = JSON.parse(data); // Instagram and X may send their message as JSON text
      } catch (e) {
        return null;
      }
    }
    return data && typeof data === "object" ? data : null;
  }

  window.addEventListener("message", function (event) {
    if (!event.source) {
      return;
    }
    var frame = null;
    each(document.querySelectorAll("iframe.embed__frame"), function (candidate) {
      if (candidate.contentWindow === event.source) {
        frame = candidate;
      }
    });
    var figure = frame && frame.closest("[data-embed]");
    var provider = figure && figure.getAttribute("data-embed");
    if (!provider || !HEIGHTS.hasOwnProperty(provider) || event.origin !== ORIGINS[provider]) {
      return;
    }
    var message = parsed(event.data);
    var height;
    try {
      height = message ? HEIGHTS[provider](message) : null;
    } catch (e) {
      return;
    }
    if (typeof height !== "number" || !isFinite(height) || height <= 0 || height > ABSURD) {
      return;
    }
    frame.style.height = Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, Math.round(height))) + "px";
  });

  // Another tab took a choice back or gave one: the frames loaded by a choice since taken back go, and the
  // buttons and the footer say what is now remembered.
  window.addEventListener("storage", function (event) {
    if (event.key !== KEY && event.key !== null) {
      return;
    }
    var allowed = remembered();
    each(document.querySelectorAll('[data-embed-loaded="remembered"]'), function (figure) {
      if (allowed[figure.getAttribute("data-embed")] !== true) {
        unload(figure);
      }
    });
    sync();
  });

  prepare(document);
  listSettings();
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        each(record.addedNodes, function (node) {
          if (node.nodeType === 1) {
            prepare(node);
          }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }
})();
