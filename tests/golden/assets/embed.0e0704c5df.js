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
 * The frame's address comes from the page, made by the build from a checked address (embeds.py); it is loaded
 * only from the services' own embed origins below (the same list the Content-Security-Policy allows as
 * frame sources), with the same sandbox, whatever the page says. A loaded frame may say how tall its post is
 * (Bluesky's embed posts {height} to its parent): only a message from that very frame, from its own origin,
 * is heeded, and the height is kept within bounds.
 */
(function () {
  "use strict";

  var ORIGINS = [
    "https://platform.twitter.com",
    "https://embed.bsky.app",
    "https://www.youtube-nocookie.com",
    "https://www.instagram.com",
    "https://www.facebook.com",
    "https://www.tiktok.com"
  ];
  var SANDBOX = "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox";
  var REFERRER = "strict-origin";
  var ALLOW = { youtube: "fullscreen; picture-in-picture; encrypted-media", tiktok: "fullscreen; encrypted-media" };
  var KEY = "countnight.embeds"; // {"youtube": true, ...}: the services the reader chose to allow every time

  if (!window.URL || !document.querySelectorAll) {
    return;
  }

  function remembered() {
    try {
      var value = JSON.parse(window.localStorage.getItem(KEY) || "{}");
      return value && typeof value === "object" ? value : {};
    } catch (e) {
      return {}; // storage blocked or garbled: ask every time
    }
  }

  function remember(provider) {
    try {
      var value = remembered();
      value[provider] = true;
      window.localStorage.setItem(KEY, JSON.stringify(value));
    } catch (e) {
      /* storage blocked: the choice holds for this page only */
    }
  }

  function allowedSource(address) {
    var url;
    try {
      url = new URL(address);
    } catch (e) {
      return null;
    }
    return ORIGINS.indexOf(url.origin) >= 0 && url.protocol === "https:" ? url.href : null;
  }

  function load(figure) {
    if (figure.hasAttribute("data-embed-loaded")) {
      return;
    }
    var provider = figure.getAttribute("data-embed");
    var source = allowedSource(figure.getAttribute("data-embed-src") || "");
    if (!source) {
      return;
    }
    figure.setAttribute("data-embed-loaded", "");
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
      consent.remove();
    }
    figure.appendChild(frame);
  }

  function prepare(root) {
    var figures = root.matches && root.matches("[data-embed]") ? [root] : root.querySelectorAll("[data-embed]");
    var allowed = remembered();
    Array.prototype.forEach.call(figures, function (figure) {
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

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-embed-allow]");
    var figure = button && button.closest("[data-embed]");
    if (!figure) {
      return;
    }
    var provider = figure.getAttribute("data-embed");
    var box = figure.querySelector("[data-embed-remember]");
    if (box && box.checked) {
      remember(provider);
      Array.prototype.forEach.call(document.querySelectorAll("[data-embed]"), function (other) {
        if (other.getAttribute("data-embed") === provider) {
          load(other);
        }
      });
    } else {
      load(figure);
    }
  });

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.height !== "number" || !isFinite(data.height)) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("iframe.embed__frame"), function (frame) {
      if (event.source === frame.contentWindow && event.origin === new URL(frame.src).origin) {
        frame.style.height = Math.max(120, Math.min(2400, Math.round(data.height))) + "px";
      }
    });
  });

  prepare(document);
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        Array.prototype.forEach.call(record.addedNodes, function (node) {
          if (node.nodeType === 1) {
            prepare(node);
          }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }
})();
