import pytest

from aipcbench.devices.timing import measure, repeat_for, time_call
from aipcbench.results.record import TimingPolicy


class FakeDevice:
    """A clock that only moves when a step runs, and a log of every sync and clock read."""

    def __init__(self, step_times):
        self.step_times = list(step_times)
        self.now = 100.0
        self.events = []
        self.steps = 0

    def clock(self):
        self.events.append("clock")
        return self.now

    def sync(self):
        self.events.append("sync")

    def step(self):
        self.events.append("step")
        self.now += self.step_times[min(self.steps, len(self.step_times) - 1)]
        self.steps += 1


def test_warmup_is_excluded_and_samples_are_the_step_times():
    device = FakeDevice([5.0, 5.0, 1.0])  # two slow warm-up steps, then 1 s steps
    policy = TimingPolicy(warmup_steps=2, min_steps=4, min_time_s=0.0, max_time_s=100.0)
    m = measure(device.step, device.sync, policy, clock=device.clock)
    assert m.warmup_samples_s == (5.0, 5.0)
    assert m.samples_s == (1.0, 1.0, 1.0, 1.0)
    assert m.window_s == 4.0
    assert m.stopped_by == "min-steps-and-time"


def test_stops_only_when_both_min_steps_and_min_time_are_reached():
    device = FakeDevice([0.5])
    policy = TimingPolicy(warmup_steps=0, min_steps=3, min_time_s=4.0, max_time_s=100.0)
    m = measure(device.step, device.sync, policy, clock=device.clock)
    assert len(m.samples_s) == 8  # 3 steps would be enough, 4 s needs 8
    device = FakeDevice([2.0])
    m = measure(device.step, device.sync, policy, clock=device.clock)
    assert len(m.samples_s) == 3  # 4 s after 2 steps, but 3 steps are required


def test_max_time_and_max_steps_cap_the_window():
    device = FakeDevice([10.0])
    policy = TimingPolicy(warmup_steps=0, min_steps=100, min_time_s=1.0, max_time_s=25.0)
    m = measure(device.step, device.sync, policy, clock=device.clock)
    assert len(m.samples_s) == 3 and m.stopped_by == "max-time"
    device = FakeDevice([0.001])
    policy = TimingPolicy(warmup_steps=0, min_steps=1, min_time_s=50.0, max_time_s=60.0, max_steps=7)
    m = measure(device.step, device.sync, policy, clock=device.clock)
    assert len(m.samples_s) == 7 and m.stopped_by == "max-steps"


def test_device_is_synchronised_before_every_clock_read():
    device = FakeDevice([1.0])
    policy = TimingPolicy(warmup_steps=2, min_steps=3, min_time_s=0.0, max_time_s=100.0)
    measure(device.step, device.sync, policy, clock=device.clock)
    events = device.events
    for index, event in enumerate(events):
        if event == "clock":
            assert events[index - 1] == "sync", f"clock read without a sync at event {index}"
    assert events.count("step") == 5
    # every step is followed by a sync before anything else happens
    for index, event in enumerate(events):
        if event == "step":
            assert events[index + 1] == "sync"


def test_windows_bracket_only_the_timed_steps():
    device = FakeDevice([1.0])

    class Window:
        def start(self):
            device.events.append("window-start")

        def stop(self):
            device.events.append("window-stop")
            return "reading"

    policy = TimingPolicy(warmup_steps=2, min_steps=2, min_time_s=0.0, max_time_s=100.0)
    measurement = measure(
        device.step,
        device.sync,
        policy,
        clock=device.clock,
        windows=[Window()],
        after_warmup=lambda: device.events.append("after-warmup"),
    )
    events = device.events
    start, stop = events.index("window-start"), events.index("window-stop")
    assert events[:start].count("step") == 2  # warm-up happened before the window
    assert events[start:stop].count("step") == 2
    assert events.index("after-warmup") < start
    assert measurement.window_readings == ("reading",)  # returned, not left in the window


@pytest.mark.parametrize(
    "kwargs",
    [
        {"warmup_steps": -1},
        {"min_steps": 0},
        {"min_time_s": -1.0},
        {"max_time_s": 0.0},
        {"min_time_s": 5.0, "max_time_s": 1.0},
        {"min_steps": 10, "max_steps": 5},
    ],
)
def test_policy_rejects_nonsense(kwargs):
    values = {"warmup_steps": 1, "min_steps": 1, "min_time_s": 0.0, "max_time_s": 1.0, **kwargs}
    with pytest.raises(ValueError):
        TimingPolicy(**values)


def test_probe_loops_read_the_clock_around_synced_calls():
    device = FakeDevice([0.25])
    samples = repeat_for(device.step, device.sync, seconds=1.0, min_repeats=3, clock=device.clock)
    assert samples and all(s == 0.25 for s in samples) and len(samples) >= 3
    assert time_call(device.step, device.sync, clock=device.clock) == 0.25
