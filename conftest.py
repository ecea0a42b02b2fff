"""Run-wide set-up for every pytest run, of the whole suite or of one page.

Everything kernels and tools write (IPython history, runtime files, the matplotlib cache) goes
to a temporary folder of this run, removed at its end: nothing outside the repository or a
temp dir is written, even by ``pytest notebooks/<chapter>/<page>.ipynb`` alone.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_PRIVATE = tempfile.mkdtemp(prefix="book-run-")
for _name in ("IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "MPLCONFIGDIR"):
    os.environ[_name] = os.path.join(_PRIVATE, _name.lower())
atexit.register(shutil.rmtree, _PRIVATE, ignore_errors=True)
