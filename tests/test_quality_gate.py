"""The training quality gate judges only when the run took enough steps to judge."""

import math

import pytest

from aipcbench import results
from aipcbench.run.quality import MIN_STEPS_TO_JUDGE, judge
from tests import datafiles


@pytest.mark.parametrize(
    "losses, steps, verdict",
    [
        ((2.3, 2.0, 1.5), 8, "valid"),  # fell: valid at any length
        ((2.48, 2.03, 2.59), 8, "inconclusive"),  # VGG16 after a quick run: too few steps to say
        ((2.48, 2.03, 2.59), MIN_STEPS_TO_JUDGE, "invalid"),  # long enough, and it did not fall
        ((2.3, math.nan, 1.0), 8, "invalid"),  # diverged: conclusive at any length
        ((2.3, 2.0, math.inf), 500, "invalid"),
    ],
)
def test_verdicts(losses, steps, verdict):
    quality = judge(*losses, steps)
    assert quality.verdict == verdict
    assert quality.valid_run is (verdict != "invalid")
    assert quality.optimizer_steps == steps
    assert all(
        v is None or math.isfinite(v) for v in (quality.loss_initial, quality.loss_start, quality.loss_end)
    )


def test_workloads_that_do_not_train_have_no_gate():
    assert judge(None, None, None, 100) is None


def test_a_quick_vgg16_run_on_real_format_cifar_files_does_not_fail(cli, tmp_path):
    datafiles.cifar_bin(tmp_path / "data", records=8)
    code, out, err = cli(
        "run",
        "--devices",
        "cpu",
        "--workloads",
        "vgg16-cifar10:train",
        "--data-dir",
        str(tmp_path / "data"),
        "--results-dir",
        str(tmp_path / "results"),
        "--no-report",
        "--warmup",
        "1",
        "--min-steps",
        "3",
        "--min-time",
        "0",
        "--max-time",
        "2",
    )
    (record,) = results.load(next((tmp_path / "results").glob("run-*.json"))).records
    assert record.status == "ok" and record.data_source == "real", record.reason
    assert record.quality.optimizer_steps < MIN_STEPS_TO_JUDGE
    assert record.quality.verdict in ("valid", "inconclusive")
    assert code == 0, err  # a short window is never a failed run
    if record.quality.verdict == "inconclusive":
        assert "loss trend inconclusive" in out
