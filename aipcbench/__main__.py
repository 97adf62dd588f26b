"""``python -m aipcbench``: the same command line as the ``aipcbench`` script."""

import sys

try:
    from aipcbench.cli import main
except KeyboardInterrupt:  # Ctrl-C before the command line is even imported: a clean stop
    print("aipcbench: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
