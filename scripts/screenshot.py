"""Screenshot of a rendered report for the README, with the browser test's machinery.

.venv/bin/python scripts/screenshot.py reports/aipcbench-report.html docs/report.png
"""

import sys
from pathlib import Path

from aipcbench.report.browser import open_report

if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.parent.mkdir(parents=True, exist_ok=True)
    with open_report(source, width=1280, height=1100) as (page, errors):
        page.screenshot(path=str(target))
    if errors:
        sys.exit(f"console errors: {errors}")
    print(target)
