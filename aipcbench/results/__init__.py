"""The results part: the typed record, and the versioned store that turns it into JSON and back.

- ``record``: the frozen dataclasses of a cell's record (units in every field name);
- ``device_facts``: what a run measured about each device;
- ``store``: the results file (writer, loader, discovery, pandas view);
- ``schema``: the schema history and the upgrade chain from older files;
- ``typed``: the checked conversion between plain JSON data and the dataclasses;
- ``atomic``: temp-file-and-rename writes.

Imports no torch: results are read on machines without it.
"""

from aipcbench.results.store import (
    ResultsDocument,
    ResultsWriter,
    discover,
    dumps,
    load,
    load_many,
    to_dataframe,
)

__all__ = ["ResultsDocument", "ResultsWriter", "discover", "dumps", "load", "load_many", "to_dataframe"]
