"""``python -m aipcbench``: the same command line as the ``aipcbench`` script."""

import sys

from aipcbench.cli import main

sys.exit(main())
