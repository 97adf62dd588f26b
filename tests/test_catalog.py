"""The shipped catalogs load and cite; malformed files fail naming file, line and field."""

import pytest

from aipcbench.catalog import load_catalog, parse_catalog
from aipcbench.errors import DataError

HEAD = "# aipcbench-catalog cloud_offers v1\n"
COLUMNS = (
    "provider,instance_type,accelerator,gpu_model,gpu_count,region,currency,"
    "on_demand_per_hour,spot_per_hour_low,spot_per_hour_high,billing_increment_s,"
    "billing_minimum_s,source,as_of\n"
)
GOOD = "Acme,a1,H100-SXM,H100,1,us,USD,2.5,1.0,1.2,1,60,acme.example/pricing,2026-11\n"


def test_shipped_catalogs_load_and_every_row_cites_a_source():
    catalog = load_catalog()
    assert len(catalog.cloud_offers) > 50 and catalog.device_specs and catalog.local_hardware
    for table in (catalog.cloud_offers, catalog.local_hardware, catalog.device_specs, catalog.electricity):
        for row in table:
            assert row.source and row.as_of, row
    providers = {offer.provider for offer in catalog.cloud_offers}
    assert {"AWS", "GCP", "Azure", "Lambda", "RunPod"} <= providers
    accelerators = {offer.accelerator for offer in catalog.cloud_offers}
    assert {"H100-SXM", "A100-80GB", "L4", "L40S", "A10G"} <= accelerators
    assert catalog.spec_for_device_name("NVIDIA H100 80GB HBM3").bf16_tflops == 989.4
    assert catalog.default_region == "United States"


def test_a_good_user_file_parses(tmp_path):
    name, _, rows = parse_catalog(tmp_path / "c.csv", HEAD + COLUMNS + GOOD)
    assert name == "cloud_offers" and rows[0].on_demand_per_hour == 2.5 and rows[0].gpu_count == 1


@pytest.mark.parametrize(
    "row, message",
    [
        (GOOD.replace(",2.5,", ",-2.5,"), "c.csv:3: field 'on_demand_per_hour' must be a finite number >= 0"),
        (GOOD.replace(",2.5,", ",cheap,"), "c.csv:3: field 'on_demand_per_hour' is not a number: 'cheap'"),
        (GOOD.replace(",2.5,", ",,"), "c.csv:3: field 'on_demand_per_hour' is missing"),
        (GOOD.replace(",USD,", ",EUR,"), "c.csv:3: field 'currency': unknown currency 'EUR'"),
        (GOOD.replace(",1,us,", ",0,us,"), "c.csv:3: field 'gpu_count' must be above 0"),
        (GOOD + GOOD, "c.csv:4: duplicate key Acme / a1 / us (first on line 3)"),
        (GOOD.replace(",2.5,", ",nan,"), "field 'on_demand_per_hour' must be a finite number"),
    ],
)
def test_malformed_rows_name_file_line_and_field(tmp_path, row, message):
    with pytest.raises(DataError) as info:
        parse_catalog(tmp_path / "c.csv", HEAD + COLUMNS + row)
    assert message in str(info.value)


def test_unknown_unit_and_missing_columns_and_foreign_files(tmp_path):
    text = (
        "# aipcbench-catalog electricity v1\nregion,metric,sector,value,unit,source,as_of\n"
        "Mars,price,household,0.3,EUR/MWh,x,2026\n"
    )
    with pytest.raises(DataError, match="unknown unit 'EUR/MWh'"):
        parse_catalog(tmp_path / "e.csv", text)
    with pytest.raises(DataError, match="missing column"):
        parse_catalog(tmp_path / "c.csv", HEAD + "provider,instance_type\nA,b\n")
    with pytest.raises(DataError, match="not an aipcbench catalog"):
        parse_catalog(tmp_path / "x.csv", "name,price\nfoo,1\n")
    with pytest.raises(DataError, match="newer than this aipcbench reads"):
        parse_catalog(tmp_path / "c.csv", "# aipcbench-catalog cloud_offers v9\n" + COLUMNS)


SKYPILOT = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,"
    "SpotPrice,Region,AvailabilityZone\n"
    "p5.48xlarge,H100,8,192,2048,,55.04,17.63,us-east-1,use1-az1\n"
    "p5.48xlarge,H100,8,192,2048,,55.04,18.00,us-east-1,use1-az2\n"
    "m5.large,,,2,8,,0.096,0.04,us-east-1,use1-az1\n"
)


def test_skypilot_vms_csv_is_accepted(tmp_path):
    path = tmp_path / "aws" / "vms.csv"
    path.parent.mkdir()
    path.write_text(SKYPILOT)
    catalog = load_catalog([path])
    offer = next(o for o in catalog.cloud_offers if o.provider == "aws")
    assert (offer.accelerator, offer.gpu_count, offer.on_demand_per_hour) == ("H100-SXM", 8, 55.04)
    assert offer.spot_per_hour_low == 17.63
    assert "per-second, 60 s minimum assumed" in offer.notes
    assert len([o for o in catalog.cloud_offers if o.provider == "aws"]) == 1  # AZ rows merged


def test_user_rows_replace_shipped_ones(tmp_path):
    path = tmp_path / "mine.csv"
    row = GOOD.replace("Acme,a1", "Lambda,gpu_1x_h100_sxm5").replace(
        ",us,", ",all US/EU/APAC regions (same price),"
    )
    path.write_text(HEAD + COLUMNS + row)
    catalog = load_catalog([path])
    lambdas = [o for o in catalog.cloud_offers if o.instance_type == "gpu_1x_h100_sxm5"]
    assert len(lambdas) == 1 and lambdas[0].on_demand_per_hour == 2.5


def test_a_zero_hourly_price_is_refused_where_it_is_read(tmp_path):
    """An offer at $0.00 an hour with a spot price divided the spot share by zero in `cost`
    (found by scripts/hostile_sweep.py); a free GPU is a typo."""
    with pytest.raises(DataError, match="c.csv:3: field 'on_demand_per_hour' must be above 0, got 0"):
        parse_catalog(tmp_path / "c.csv", HEAD + COLUMNS + GOOD.replace(",2.5,1.0,1.2,", ",0,1.0,1.2,"))
