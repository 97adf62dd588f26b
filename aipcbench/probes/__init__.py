"""Probes turn timings into what hardware is compared by: FLOPs, peaks, memory, energy.

Each probe records the method that produced its number, and none runs inside the timed loop
except energy counters, which are read only at the window's two boundaries (or sampled by a
background thread where only instantaneous power exists).
"""
