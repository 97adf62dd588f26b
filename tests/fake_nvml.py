"""A fake ``pynvml`` module: just the calls aipcbench makes, scripted per test."""

from __future__ import annotations


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's own naming
    def __str__(self):
        return "Not Supported"


class FakeNvml:
    def __init__(
        self,
        energy_mj=None,
        power_mw=None,
        energy_error_at=None,
        reasons=0,
        energy_supported=True,
        power_supported=True,
    ):
        self.energy_mj = list(energy_mj or [])  # successive counter readings
        self.power_mw = power_mw  # constant board power
        self.energy_error_at = energy_error_at  # raise on the N-th counter read
        self.energy_supported, self.power_supported = energy_supported, power_supported
        self.reasons = reasons
        self.energy_reads = 0
        self.memory_used_bytes = None  # device memory in use, as nvmlDeviceGetMemoryInfo reports

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        pass

    def nvmlDeviceGetHandleByIndex(self, index):
        return f"handle-{index}"

    def nvmlDeviceGetHandleByUUID(self, uuid):
        return f"handle-{uuid}"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self.energy_supported:
            raise NVMLError_NotSupported()
        self.energy_reads += 1
        if self.energy_error_at is not None and self.energy_reads >= self.energy_error_at:
            raise NVMLError("GPU is lost")
        if len(self.energy_mj) > 1:
            return self.energy_mj.pop(0)
        return self.energy_mj[0]

    def nvmlDeviceGetPowerUsage(self, handle):
        if not self.power_supported:
            raise NVMLError_NotSupported()
        if isinstance(self.power_mw, list):  # successive readings, the last one repeated
            return self.power_mw.pop(0) if len(self.power_mw) > 1 else self.power_mw[0]
        return self.power_mw

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle):
        return self.reasons

    def nvmlDeviceGetMemoryInfo(self, handle):
        class Info:
            used = self.memory_used_bytes

        if self.memory_used_bytes is None:
            raise NVMLError_NotSupported()
        return Info()
