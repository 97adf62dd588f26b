"""Lay the context out as one self-contained HTML page.

- jinja2 with autoescaping on for every template: strings from results and catalogs are text;
- plotly.js (its cartesian bundle, vendored) embedded once, inline: the page opens offline;
- the figures travel as JSON inside ``<script type="application/json">`` with ``<``, ``>``,
  ``&`` and the JavaScript line separators escaped, so no string can end the element early;
- written to a temp file and renamed over the target: a half-written page never replaces one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from aipcbench.report import formatters
from aipcbench.results.atomic import write_text_atomic
from aipcbench.results.store import finite_or_none

TEMPLATES = Path(__file__).resolve().parent / "templates"
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)


def json_for_script(data: Any) -> str:
    """JSON that is inert inside a <script> element (no tag can be closed or opened)."""
    text = json.dumps(finite_or_none(data), separators=(",", ":"), allow_nan=False, default=str)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


PLOTLY_BUNDLE = Path(__file__).resolve().parent / "vendor" / "plotly-cartesian-3.7.0.min.js"


def plotly_js() -> str:
    """plotly.js's cartesian bundle (bar, box, scatter: every chart the report draws), 1.4 MB
    where the full bundle is 4.8 MB; the full one only if the vendored file is missing."""
    try:
        text = PLOTLY_BUNDLE.read_text(encoding="utf-8")
    except OSError:
        from plotly.offline import get_plotlyjs

        text = get_plotlyjs()
    return _SCRIPT_END.sub(r"<\\/\1", text)


def _inert(value: Any) -> Any:
    """Every text the template prints loses its control characters (a results file may carry
    terminal escapes), as on the terminal; markup the template marked safe (the bundled plotly.js
    and the charts' JSON) is left as it is."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return formatters.safe_text(value)
    return value


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        finalize=_inert,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        usd=lambda v: "–" if v is None else formatters.usd(v),
        dur=formatters.duration,
        pct=lambda v: formatters.percent(v, 1, "–"),
        si=formatters.si,
        bytes=formatters.size_bytes,
        wh=formatters.energy,
        steptime=formatters.step_time,
        num=lambda v: "–" if v is None else f"{v:,.3g}" if v < 100 else f"{v:,.0f}",
    )
    return env


def render_html(context: dict[str, Any]) -> str:
    template = environment().get_template("report.html.j2")
    return template.render(
        ctx=context, data_json=json_for_script({"figures": context["figures"]}), plotly_js=plotly_js()
    )


def write_report(context: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, render_html(context))
    return out
