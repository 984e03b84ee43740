/* pa11y (HTML_CodeSniffer, WCAG 2 AA) on pages at several widths, in one headless Chromium, for
 * tests/test_pa11y.py. Prints one JSON array: {url, width, issues: [{code, type, message, selector, context}]}.
 *
 *   node tests/pa11y_pages.js CHROMIUM WIDTH[,WIDTH…] URL…
 *
 * CHROMIUM is the browser to drive (Debian's /usr/bin/chromium: `npm ci` runs with PUPPETEER_SKIP_DOWNLOAD, so
 * puppeteer has no browser of its own). Errors only: warnings and notices ask for a person's judgement.
 *
 * COUNTNIGHT_PA11Y_ACTIONS, if set, is a JSON list of pa11y actions run on each page before it is checked
 * ("click element SELECTOR", ...): a page in the state a reader leaves it in. Chromium resolves no host name
 * but loopback's, so nothing a page asks for (an embed the actions allowed) ever leaves the machine.
 */
"use strict";

const path = require("path");
const pa11y = require("pa11y");
// pa11y's own puppeteer, whichever folder npm put it in.
const puppeteer = require(require.resolve("puppeteer", { paths: [path.dirname(require.resolve("pa11y"))] }));

async function main() {
  const [executablePath, widthList, ...urls] = process.argv.slice(2);
  if (!executablePath || !widthList || urls.length === 0) {
    throw new Error("usage: node pa11y_pages.js CHROMIUM WIDTH[,WIDTH…] URL…");
  }
  const chromeLaunchConfig = {
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  };
  const actions = JSON.parse(process.env.COUNTNIGHT_PA11Y_ACTIONS || "[]");
  const browser = await puppeteer.launch(chromeLaunchConfig);
  const results = [];
  try {
    for (const width of widthList.split(",").map(Number)) {
      for (const url of urls) {
        // One Chromium for every page, each page in a context of its own: a first visit, with nothing kept by
        // the page before it (a choice remembered in localStorage).
        const context = await browser.createBrowserContext();
        const page = await context.newPage();
        const result = await pa11y(url, {
          browser,
          page,
          chromeLaunchConfig,
          standard: "WCAG2AA",
          runners: ["htmlcs"],
          actions,
          includeNotices: false,
          includeWarnings: false,
          viewport: { width, height: 900, isMobile: width < 600, hasTouch: width < 600 },
          timeout: 120000, // a loaded two-core machine
        });
        await context.close();
        results.push({
          url,
          width,
          issues: result.issues.map(({ code, type, message, selector, context }) => ({
            code,
            type,
            message,
            selector,
            context,
          })),
        });
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(`pa11y_pages.js: ${error && error.stack ? error.stack : error}\n`);
  process.exit(2);
});
