"""The report part: what a founder reads, from results and costs. No torch.

- ``commands``: the ``cost`` and ``report`` commands and the report that ends a run;
- ``context``: every number the page shows, computed as plain data (pure, testable);
- ``figures`` / ``cost_figures``: the charts as plotly dicts; ``render``: the HTML page
  (jinja2 with autoescaping, plotly.js embedded once, data as escaped JSON);
- ``plain``: the md/csv/json table; ``cost_views``: ``cost``'s text and rows;
- ``formatters``: how every number and text is shown, and made safe for its reader.
"""
