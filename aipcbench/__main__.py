import sys

from aipcbench.cli import main

sys.exit(main())
