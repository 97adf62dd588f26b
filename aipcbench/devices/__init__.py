"""Everything about measuring a device, in one part: what this machine has (detect.py), its
rated figures (rated.py, peak.py), the probe run once per device in a child (probe.py: GEMM
FLOP/s, read bandwidth, idle power, CPU clock and issue rate), and the meters a cell reads
around its timed window (sensors.py: energy.py, nvml.py; memory.py).

Each meter records the method that produced its number, and none runs inside the timed loop
except energy counters, which are read only at the window's two boundaries (or sampled by a
background thread where only instantaneous power exists).
"""
