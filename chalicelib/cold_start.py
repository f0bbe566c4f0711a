"""No garbage collection while app.py imports: imported first by app.py, which calls ``imported()``.

Importing the app creates ~55,000 objects (modules, classes, functions, pydantic models) that live as
long as the process. Each time enough have been allocated, CPython runs a collection that walks
them: ~130 collections, ~35 ms of every cold start, which free almost nothing (~800 objects of
import-time scaffolding). So the collector pauses from here until ``imported()``, which moves what
exists then out of its sight for good (``gc.freeze``, as pre-fork servers do) and resumes it for
what requests allocate. Only app.py imports this module.
"""

from __future__ import annotations

import gc

_was_enabled = gc.isenabled()
gc.disable()


def imported() -> None:
    """Everything is imported: keep it out of future collections and collect again from here on."""
    gc.freeze()
    if _was_enabled:
        gc.enable()
