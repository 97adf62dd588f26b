"""The report: numbers in the page match the cost and results code; strings stay text."""

import html
import json
import re
import subprocess
import sys

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.cost import formulas as cost
from aipcbench.cost.compare import compare
from aipcbench.cost.machine import build_profile
from aipcbench.report.browser import chromium_path, open_report
from aipcbench.report.context import build_context
from aipcbench.report.render import json_for_script, render_html, write_report
from aipcbench.results import load
from aipcbench.results.store import from_data
from tests.conftest import DATA

HOSTILE = ["</script><script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


def _inputs(extra=()):
    documents = [load(DATA / "results-v2-fixture-h100.json"), load(DATA / "results-v2.json"), *extra]
    catalog = load_catalog()
    machine = build_profile(
        {"price_usd": 3200, "lifetime_years": 3, "hours_per_day": 8, "electricity_usd_per_kwh": 0.2}, catalog
    )
    return documents, catalog, machine, compare(documents, catalog, machine)


def _embedded(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="aipcbench-data">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def test_page_data_matches_the_cost_and_results_code():
    documents, catalog, machine, comparisons = _inputs()
    context = build_context(documents, comparisons, machine, "now")
    page = render_html(context)
    figures = _embedded(page)["figures"]
    vgg = next(c for c in comparisons if c.label == "vgg16-cifar10:train fp32")
    local_record = next(r for r in documents[1].records if r.cell == "vgg16-cifar10:train@cpu/fp32")
    # local cost recomputed from the formulas and the record
    per_hour = 3200 / (3 * 365 * 8)  # the hardware's share of an hour of use
    expected = cost.local_cost_per_run(local_record.run.time_s, local_record.energy.per_run_j, per_hour, 0.2)
    assert vgg.local.total_usd == pytest.approx(expected.total_usd)
    cost_fig = figures["cost"]
    local = cost_fig["data"][0]  # one row per cell: this machine's cost per run, split in the hover
    index = local["y"].index("vgg16-cifar10:train fp32")
    assert local["x"][index] == pytest.approx(expected.total_usd)
    assert local["customdata"][index][0] == pytest.approx(expected.hardware_usd)
    assert len(set(local["y"])) == len(local["y"]) == len(comparisons)  # one row a cell, not a bar an offer
    # the H100 offers are measured from the second host's file
    lambda_h100 = next(o for o in vgg.offers if o.instance_type == "gpu_1x_h100_sxm5")
    fixture_record = next(r for r in documents[0].records if r.cell == "vgg16-cifar10:train@cuda:0/fp32")
    assert lambda_h100.evidence.method == "measured"
    assert lambda_h100.on_demand_usd == pytest.approx(
        cost.cloud_cost_per_run(fixture_record.run.time_s, 4.29, 60, 60)
    )
    # throughput chart carries the recorded throughput of every ok record, per host
    # one unit on the axis at a time: a trace per unit and device, the menu switches units
    traces = {(t["text"][0], t["name"]): t for t in figures["throughput"]["data"]}
    cpu_trace = traces[("images", "golden-host cpu")]
    assert cpu_trace["y"][cpu_trace["x"].index("vgg16-cifar10:train fp32")] == pytest.approx(
        local_record.throughput.items_per_s
    )
    assert ("images", "fixture-h100-box cuda:0") in traces  # many machines, grouped by host and device
    units = [button["label"] for button in figures["throughput"]["layout"]["updatemenus"][0]["buttons"]]
    assert "images per second" in units and "tokens per second" in units
    # the headline names the cheapest option
    assert "Headline: the cheapest way to do one run" in page
    headline = next(h for h in context["headline"] if h["cell"] == "vgg16-cifar10:train fp32")
    assert headline["cheapest_usd"] == pytest.approx(min(vgg.local.total_usd, vgg.offers[0].on_demand_usd))


def test_same_cell_measured_twice_is_shown_twice():
    documents, catalog, machine, _ = _inputs()
    twice = documents + [load(DATA / "results-v2.json")]
    context = build_context(twice, compare(twice, catalog, machine), machine, "now")
    cells = [r for r in context["records"] if r["workload"] == "mlp" and r["size"] == "tiny"]
    assert len(cells) == 2


def test_hostile_strings_are_only_ever_escaped(tmp_path):
    documents, catalog, machine, _ = _inputs()
    raw = json.loads((DATA / "results-v2.json").read_text())
    raw["environment"]["host"] = HOSTILE[0]
    raw["environment"]["devices"][0]["name"] = HOSTILE[1]
    raw["records"][0]["reason"] = HOSTILE[1]
    raw["records"][0]["status"] = "failed"
    raw["records"][1]["data_note"] = HOSTILE[0]
    documents[1] = from_data(DATA / "results-v2.json", raw)
    comparisons = compare(documents, catalog, machine)
    page = render_html(build_context(documents, comparisons, machine, HOSTILE[0]))
    assert page.count("<script") == 3  # plotly.js, the JSON data, the drawing code
    assert len(re.findall(r"</script>", page)) == 3
    for text in HOSTILE:
        assert text not in page
    assert html.escape(HOSTILE[1]) in page  # shown as text in the tables
    data = _embedded(page)  # and the JSON still parses back to the same strings
    assert any(HOSTILE[0] in json.dumps(t) for t in data["figures"]["throughput"]["data"])


def test_json_for_script_cannot_break_out():
    text = json_for_script({"a": "</script><!-- \u2028 &"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- \u2028 &"}


def test_report_is_written_atomically(tmp_path, monkeypatch):
    documents, catalog, machine, comparisons = _inputs()
    context = build_context(documents, comparisons, machine, "now")
    out = tmp_path / "report.html"
    out.write_text("previous report")

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed mid-way")

    monkeypatch.setattr("aipcbench.report.render.render_html", broken)
    with pytest.raises(RuntimeError):
        write_report(context, out)
    assert out.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_report_cli_plain_formats_and_bad_files(cli, tmp_path):
    bad = tmp_path / "truncated.json"
    bad.write_text('{"format": "aipcbench-results", "schema_version": 2, "rec')
    code, out, err = cli("report", str(DATA / "results-v2.json"), str(bad), "--format", "md")
    assert code == 0
    assert "warning: skipped" in err and "truncated.json" in err
    assert out.startswith("| host | device | workload |") and "vgg16-cifar10" in out
    code, out, err = cli("report", str(DATA / "results-v2.json"), "--format", "csv")
    assert out.splitlines()[0].startswith("host,device,workload")
    code, out, err = cli("report", str(bad))
    assert code == 2 and "no usable results files" in err and err.count("\n") == 2


@pytest.mark.parametrize("out", ["../../x.html", "reports/\x00.html", ".hidden.html"])
def test_report_refuses_dangerous_output_names(cli, out):
    code, _, err = cli("report", str(DATA / "results-v2.json"), "--out", out)
    assert code == 2 and "--out: refusing" in err


def test_report_runs_without_torch(tmp_path):
    """The report side imports no torch: block it and render."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch is blocked in this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from aipcbench.cli import main\n"
        f"sys.exit(main(['report', {str(DATA / 'results-v2.json')!r}, '--out', "
        f"{str(tmp_path / 'r.html')!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.html").stat().st_size > 1_000_000  # plotly.js is inside


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_page_in_a_real_browser(tmp_path):
    pytest.importorskip("playwright.sync_api")
    documents, catalog, machine, comparisons = _inputs()
    context = build_context(documents, comparisons, machine, "now")
    page_path = write_report(context, tmp_path / "report.html")
    expected_charts = sum(1 for f in context["figures"].values() if f["data"])
    with open_report(page_path) as (page, errors):
        assert page.evaluate("document.body.dataset.chartsDrawn") == str(len(context["figures"]))
        assert page.locator(".js-plotly-plot").count() == expected_charts
        assert page.locator("#headline h2").inner_text().startswith("Headline")
        assert page.locator("#headline tbody tr").count() == len(context["headline"])
        page.screenshot(path=str(tmp_path / "report.png"))
    assert errors == []
    assert (tmp_path / "report.png").stat().st_size > 10_000


def _two_candidates_and_a_plan(cli, tmp_path, profile: bool = False):
    """The report of two candidate machines and a two-item plan (a yearly profile if asked)."""
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[work]]\nworkload = "vgg16-cifar10:train"\nruns_per_month = 40\n'
        '[[work]]\nworkload = "gpt2-generate:batched"\ntokens_per_month = 20_000_000\n'
        + ("[profile]\nmonths = [1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3]\n" if profile else "")
    )
    out = tmp_path / "report.html"
    args = (
        "report",
        str(DATA / "results-v3.json"),
        "--preset",
        "rtx4090-workstation",
        "--preset",
        "dgx-spark",
    )
    code, _, err = cli(*args, "--plan", str(plan), "--out", str(out))
    assert code == 0, err
    return out


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_a_report_with_two_candidates_and_a_plan_leads_with_the_decision(cli, tmp_path):
    pytest.importorskip("playwright.sync_api")
    out = _two_candidates_and_a_plan(cli, tmp_path)
    with open_report(out) as (page, errors):
        sentence = page.locator("#decision-sentence").inner_text()
        assert sentence.startswith(("Buy the", "Rent ")) and "/month" in sentence
        assert page.locator("#fig-crossing.js-plotly-plot").count() == 1  # the crossing chart is drawn
        assert page.locator("#decision tbody tr").count() >= 3  # both candidates and rentals
        first_section = page.evaluate("document.querySelector('main section').id")
        assert first_section == "decision"  # the decision comes first
    assert errors == []


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_page_fits_a_phone_a_laptop_and_a_wide_screen_and_prints_the_answer_first(cli, tmp_path):
    """No sideways scroll of the page at 390, 1,280 and 1,920 px; no console errors; printed
    (A4), the answer is on the first page."""
    pytest.importorskip("playwright.sync_api")
    out = _two_candidates_and_a_plan(cli, tmp_path, profile=True)
    widths = {}
    for width in (390, 1280, 1920):
        with open_report(out, width=width, height=900) as (page, errors):
            widths[width] = page.evaluate("document.documentElement.scrollWidth")
            assert widths[width] <= width, f"the page is {widths[width]} px wide at {width} px"
            assert errors == []
            shown = (
                "Array.from(document.querySelectorAll('#decision table.key3 th'))"
                ".filter(e => e.offsetParent).length"
            )
            if width == 390:  # a phone: the key columns, the rest one tap away
                titles_inside = (
                    "Array.from(document.querySelectorAll('.js-plotly-plot')).every(p => {"
                    " const b = p.getBoundingClientRect();"
                    " return Array.from(p.querySelectorAll('.gtitle, .xtitle')).every(t => {"
                    " const a = t.getBoundingClientRect();"
                    " return a.left >= b.left && a.right <= b.right; }); })"
                )
                assert page.evaluate(titles_inside)  # long chart titles wrap to the phone's width
                legends_inside = (
                    "Array.from(document.querySelectorAll('.js-plotly-plot')).every(p => {"
                    " const b = p.getBoundingClientRect();"
                    " return Array.from(p.querySelectorAll('.legendtext'))"
                    ".every(t => t.getBoundingClientRect().right <= b.right + 1); })"
                )
                assert page.evaluate(legends_inside)  # long legend entries are cut to fit
                assert page.evaluate(shown) == 3
                page.locator("#decision button.columns").click()
                assert page.evaluate(shown) == 8
            else:
                assert page.evaluate(shown) == 8
            if width == 1280:
                page.emulate_media(media="print")
                sentence = page.locator("#decision-sentence").bounding_box()
                assert sentence is not None and sentence["y"] + sentence["height"] < 1000  # A4 first page
                page.pdf(path=str(tmp_path / "report.pdf"), format="A4")
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


def test_every_chart_has_a_caption_in_words_and_its_data_one_click_away(cli, tmp_path):
    out = tmp_path / "r.html"
    code, _, err = cli(
        "report", str(DATA / "results-v3.json"), "--preset", "rtx4090-workstation", "--out", str(out)
    )
    assert code == 0, err
    page = out.read_text()
    drawn = page.count('<div class="fig" id="fig-')
    assert page.count('<p class="caption">') >= drawn - 2  # charts with nothing to draw have no caption
    assert "cost the same at 36 times the plan: renting is cheaper at the plan as written" in page
    assert "The input that moves the answer most is" in page
    assert '<p id="decision-range">Range a month: owning $' in page  # the summary: range and assumptions
    assert page.count("the chart&#39;s data") + page.count("the chart's data") >= drawn - 2


def test_measurement_charts_state_their_conclusion_from_the_rows_they_plot():
    """Each caption is computed from the rows: the fastest device per workload measured on two,
    the steadiest and least steady cell, the used share of the rated peak, and energy's range
    with how many figures were estimated."""
    from aipcbench.report import measurement_captions as mc

    def row(device, workload, speed, cv, mfu, joules, method="rapl"):
        return {
            "host": "h",
            "device": device,
            "workload": workload,
            "size": "s",
            "dtype": "fp32",
            "items_per_s": speed,
            "cv": cv,
            "mfu_rated": mfu,
            "energy_j_per_run": joules,
            "energy_method": method,
            "mode": "train",
            "world_size": None,
        }

    rows = [
        row("cpu", "a", 10.0, 0.02, 0.10, 3600.0),
        row("cuda:0", "a", 90.0, 0.04, 0.30, 7200.0, "estimate-tdp"),
        row("cpu", "b", 50.0, 0.25, 0.05, 36.0),
        row("cuda:0", "b", 40.0, 0.03, 0.50, 72.0),
    ]
    assert "fastest on 1 of the 2 workloads measured on more than one device" in mc.throughput_caption(rows)
    rows[2]["items_per_s"] = 30.0  # now the GPU wins both
    assert mc.throughput_caption(rows).startswith("h cuda:0 is the fastest on 2 of the 2 workloads")
    steps = mc.step_times_caption(rows)
    assert "typical cell varies 3.5%" in steps and "least steady is b:s fp32 on h cpu at 25.0%" in steps
    assert "1 cells spread more than 10%" in steps
    assert mc.utilisation_caption(rows).startswith(
        "The work used 5% (b:s fp32 on h cpu) to 50% (b:s fp32 on h cuda:0)"
    )
    energy = mc.energy_caption(rows)
    assert "from 0.01 Wh (b:s fp32) to 2 Wh (a:s fp32)" in energy and "1 of 4 figures are estimated" in energy


def test_the_usage_charts_say_from_how_many_hours_a_day_owning_wins():
    """Sensitivity: this machine per run falls with hours a day; the caption names the first hour
    at which it is at or under the rental's line, over the workloads that have a rental price."""
    from aipcbench.report.captions import sensitivity_caption

    hours = list(range(1, 25))

    def pair(own_at_1h: float, rent: float | None):
        own = {"x": hours, "y": [own_at_1h / h for h in hours]}
        return [own, {"x": hours, "y": [rent] * 24}]

    figure = {"data": pair(8.0, 1.0) + pair(100.0, 1.0) + pair(3.0, None)}
    assert sensitivity_caption(figure) == (
        "Used enough hours a day, this machine is the cheaper way per run for 1 of 2 workloads, "
        "from 8 h/day for the most favourable."
    )
    assert sensitivity_caption({"data": pair(3.0, None)}) is None  # nothing to compare with
