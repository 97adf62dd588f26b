"""$ per million tokens (to the cent), the API price catalog, and the compression table."""

import dataclasses
import re

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.catalog.rows import ApiPrice
from aipcbench.cost.compare import compare
from aipcbench.cost.machine import build_profile
from aipcbench.cost.tokens import api_usd_per_mtok, token_costs
from aipcbench.report.compression_views import compression_rows
from aipcbench.report.token_views import rows, text
from aipcbench.results.record import WorkloadFacts
from tests.records import document, ok_record, step_time

TOKENS_PER_RUN = 128_000  # 1,000 generations x 128 new tokens


def generation(dtype="fp32", seconds=3600.0, details=None, size="batch1", median_s=1.0):
    details = {"prompt_tokens": 32, "new_tokens": 128, "model": "GPT-2 (124M)", **(details or {})}
    record = ok_record(
        "gpt2-generate",
        size,
        dtype=dtype,
        seconds_per_run=seconds,
        items_per_step=128,
        items_per_run=TOKENS_PER_RUN,
        mode="generate",
        median_s=median_s,
    )
    facts = WorkloadFacts(
        "generate", 128, "tokens", "synthetic", parameter_count=124_439_808, details=details
    )
    return dataclasses.replace(record, workload_facts=facts)


def test_local_and_api_dollars_per_million_tokens_to_the_cent():
    catalog = load_catalog()
    machine = build_profile(
        {"price_usd": 2190, "lifetime_years": 1, "hours_per_day": 6, "electricity_usd_per_kwh": 0.2}, catalog
    )
    h100 = document(
        [dataclasses.replace(generation(seconds=60.0), device="cuda:0")],
        "cloudbox",
        "2",
        [{"id": "cuda:0", "name": "NVIDIA H100 80GB HBM3"}],
    )
    (comparison,) = compare([h100, document([generation()])], catalog, machine, local_host="host")
    costs = token_costs(comparison, catalog, machine.name)
    # an hour of a $1.00/h machine (2190 / (365 x 6)) and no energy figure: $1.00 per 128,000 tokens
    assert round(comparison.local.total_usd, 2) == 1.00
    assert round(costs.local.usd_per_mtok, 2) == round(1.00 / 0.128, 2) == 7.81
    assert costs.local.tokens_per_s == pytest.approx(TOKENS_PER_RUN / 3600)
    # DeepInfra's 8B: 0.05 out + 0.03 in x 32/128 = $0.0575 per million output tokens
    deepinfra = next(a for a in costs.apis if a.where == "DeepInfra Meta-Llama-3.1-8B-Instruct")
    assert round(deepinfra.usd_per_mtok, 4) == 0.0575
    assert costs.apis == tuple(sorted(costs.apis, key=lambda a: a.usd_per_mtok))
    # measured on an H100: Lambda's $4.29/h for 60 s per 128,000 tokens
    lambda_h100 = next(c for c in costs.clouds if "gpu_1x_h100_sxm5" in c.where)
    assert lambda_h100.provenance == "measured"
    assert round(lambda_h100.usd_per_mtok, 2) == round(4.29 * 60 / 3600 / 0.128, 2) == 0.56
    assert lambda_h100.tokens_per_s == pytest.approx(TOKENS_PER_RUN / 60)


def test_api_price_includes_the_prompt_in_the_cells_ratio():
    price = ApiPrice("k", "P", "m", "yes", 8, input_usd_per_mtok=1.0, output_usd_per_mtok=2.0)
    assert api_usd_per_mtok(price, 32, 128) == 2.25
    assert api_usd_per_mtok(price, 0, 128) == 2.0


def test_an_8b_api_is_comparable_to_an_8_03b_model_but_a_3b_one_is_not():
    from aipcbench.cost.tokens import comparable

    price = ApiPrice("k", "P", "m", "yes", 8, input_usd_per_mtok=1.0, output_usd_per_mtok=2.0)
    assert comparable(price, 8_030_261_248) and not comparable(price, 9_500_000_000)
    assert not comparable(dataclasses.replace(price, parameters_b=3), 8_030_261_248)


def test_only_apis_serving_a_model_at_least_as_large_are_comparable():
    catalog = load_catalog()
    machine = build_profile({"price_usd": 1000}, catalog)
    record = generation()
    big = dataclasses.replace(
        record, workload_facts=dataclasses.replace(record.workload_facts, parameter_count=7_000_000_000)
    )
    (comparison,) = compare([document([big])], catalog, machine)
    apis = token_costs(comparison, catalog, "here").apis
    assert apis and all("3B" not in a.where and "under 4B" not in a.where for a in apis)


def test_api_catalog_rows_are_cited_dated_and_priced():
    catalog = load_catalog()
    assert len(catalog.api_prices) >= 5 and len({a.provider for a in catalog.api_prices}) >= 4
    for price in catalog.api_prices:
        assert price.source and re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.as_of)
        assert (
            0 < price.input_usd_per_mtok <= price.output_usd_per_mtok * 5 and price.output_usd_per_mtok < 100
        )
        assert price.open_weights in ("yes", "no") and price.currency == "USD"


def test_a_negative_api_price_is_refused_naming_the_line(tmp_path):
    from aipcbench.errors import DataError

    bad = tmp_path / "api.csv"
    bad.write_text(
        "# aipcbench-catalog api_prices v1\n"
        "key,provider,model,open_weights,parameters_b,input_usd_per_mtok,output_usd_per_mtok,currency,notes,source,as_of\n"
        "x,P,m,yes,8,-1,2,USD,,s,2025-01-01\n"
    )
    with pytest.raises(DataError, match=r"api.csv:3: field 'input_usd_per_mtok'"):
        load_catalog([bad])


def test_token_table_text_and_rows():
    catalog = load_catalog()
    machine = build_profile({"price_usd": 2190}, catalog)
    fidelity = {"top1_agreement": 0.9, "kl_divergence_nats": 0.001}
    comparisons = compare([document([generation("int8", details={"fidelity": fidelity})])], catalog, machine)
    costs = [token_costs(c, catalog, machine.name) for c in comparisons]
    flat = rows(costs)
    assert flat[0]["fidelity"] == "top-1 90% · KL 0.001 nats" and flat[0]["best_api_usd_per_mtok"] > 0
    assert "$ per 1M output tokens" in text(costs) and "API: " in text(costs)
    assert "No text-generation cells" in text([])


def test_compression_rows_show_speed_against_dense_fp32_and_say_when_it_is_noise():
    dense = generation("fp32", median_s=1.0)
    int8 = generation(
        "int8", median_s=0.4, details={"quantization": "q", "fidelity": {"top1_agreement": 1.0}}
    )
    pruned_facts = {"pruned_fraction": 0.5, "pruning": "p"}
    pruned = dataclasses.replace(
        generation("fp32", size="batch1-pruned", details=pruned_facts), step_time=step_time(0.97)
    )
    noisy = dataclasses.replace(pruned.step_time, stdev_s=0.1)
    pruned = dataclasses.replace(pruned, step_time=noisy)
    by_cell = {r["cell"]: r for r in compression_rows([document([dense, int8, pruned])])}
    assert by_cell["gpt2-generate:batch1 int8"]["speedup"] == pytest.approx(2.5)
    assert not by_cell["gpt2-generate:batch1 int8"]["within_noise"]
    row = by_cell["gpt2-generate:batch1-pruned fp32"]
    assert row["base"] == "gpt2-generate:batch1 fp32" and row["within_noise"]
    assert row["change"] == "50% of weights zeroed"
    assert "gpt2-generate:batch1 fp32" not in by_cell  # dense cells are the reference, not rows


def test_tokens_command_prints_every_generation_cell_and_refuses_bad_input(cli, tmp_path):
    golden = "tests/data/results-v3.json"
    code, out, err = cli("tokens", golden)
    assert code == 0 and out.count("$ per 1M output tokens") == 2 and "API: " in out
    code, out, _ = cli("tokens", golden, "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("cell,model,dtype,local_tokens_per_s")
    missing = tmp_path / "nope.json"
    code, out, err = cli("tokens", str(missing))
    assert code == 2 and "Traceback" not in err and "error: no usable results files" in err


def test_the_report_says_where_each_model_run_fits():
    from aipcbench.report.fit_views import fit_rows

    catalog = load_catalog()
    comparisons = compare([document([generation()])], catalog, build_profile({"price_usd": 1000}, catalog))
    rows = fit_rows(comparisons, catalog)
    assert [(r["model"], r["dtype"]) for r in rows] == [("GPT-2 (124M)", d) for d in ("bf16", "int8", "int4")]
    assert all(r["context"] == 1024 for r in rows)  # GPT-2's own maximum, below 4,096
    assert rows[0]["need_bytes"] > rows[2]["need_bytes"] and any("H100" in d for d in rows[0]["fits"])
