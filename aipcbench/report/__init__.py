"""The HTML report: ``context`` computes every number (pure, testable), ``render`` only lays it
out (jinja2 with autoescaping, plotly.js embedded once, data as escaped JSON). No torch."""
