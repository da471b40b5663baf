"""One standalone HTML page: the frame every HTML output of gate shares.

A page is one file an auditor can file, mail and print: no script, no external
stylesheet, font, image or link target is ever loaded (a Content-Security-Policy that
allows only the inline style says so to the browser too), and every state is written
in words, so the page reads the same without emoji fonts and in black and white.
Every value passes through :func:`text` (HTML-escaped), so nothing from a manifest, a
commit or a config can become markup.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

# Nothing loads but this document and its inline style: no script, image, font, frame,
# form target or base URL, whatever a hostile value might try to smuggle in.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
       sans-serif; color: #1b1f24; margin: 2em auto; max-width: 80em; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin: 0 0 .3em; }
h2 { font-size: 1.25em; margin: 1.6em 0 .5em; border-bottom: 1px solid #d0d7de;
     padding-bottom: .2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
table { border-collapse: collapse; width: 100%; margin: .4em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: .3em .5em; text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f4f6; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
              font-size: .92em; }
.state { font-weight: 600; white-space: nowrap; }
.state-failed, .state-blocking, .state-error { color: #a40e26; }
.state-warning, .state-overridden, .state-expired { color: #7d4e00; }
.state-passed, .state-waived, .state-same { color: #1a7f37; }
.muted { color: #57606a; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
  th { background: none; }
  .state-failed, .state-blocking, .state-error, .state-warning, .state-overridden,
  .state-expired, .state-passed, .state-waived, .state-same { color: #000; }
}
"""


def text(value: object) -> str:
    """``value`` as HTML text: every markup character escaped, quotes included."""
    return html.escape(str(value), quote=True)


def state(label: str) -> str:
    """A state in words (``failed``, ``passed``...), styled by its class."""
    css = "".join(c if c.isalnum() else "-" for c in label.lower())
    return f'<span class="state state-{css}">{text(label)}</span>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css_class: str = "") -> str:
    """A table of cells already made HTML (pass values through :func:`text`); ``css_class``
    is a trusted class name."""
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    attribute = f' class="{text(css_class)}"' if css_class else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n"


def document(title: str, body: str, style: str = "") -> str:
    """The whole page: ``body`` (HTML) under a heading ``title`` (text)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{text(title)}</title>\n<style>{STYLE}{style}</style>\n</head>\n<body>\n"
        f"<h1>{text(title)}</h1>\n{body}</body>\n</html>\n"
    )
