"""One thin module per command: where ``aipcbench COMMAND`` starts.

Each ``main(args)`` turns the parsed flags into that command's frozen config and calls the part
that does the work: ``run`` and ``devices`` the suite (``aipcbench.run``), ``serve`` the serving
part, ``cloud`` SkyPilot, ``cost``, ``tokens``, ``estimate`` and ``fit`` the pricing and estimating
(``aipcbench.cost``), ``report`` the page (``aipcbench.report``), ``workloads`` the registry.
``aipcbench.cli`` only parses, dispatches by name and turns errors into one line.
"""

COMMANDS = ("run", "devices", "workloads", "cost", "tokens", "cloud", "report", "estimate", "fit", "serve")
