"""The cost part: what a run costs to own or to rent, and how long it takes on each option.

- ``formulas``: the cost per run, billing, break-even (pure functions, pinned to hand calculations);
- ``machine``: the local machine's economics (TOML profile or flags, assumptions labelled);
- ``evidence``: run times on other accelerators (measured, or estimated with the basis said);
- ``compare``: one comparison per measured cell, local against every cloud offer.

Imports neither torch nor the run part nor workloads.
"""
