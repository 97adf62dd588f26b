"""The run part: the suite, each cell in its own process, and everything that reads a clock.

Where a cell's process is started: ``child``; what it does there: ``worker``; the suite around
them: ``suite`` and ``cells``. Every clock read goes through ``timing``.
"""
