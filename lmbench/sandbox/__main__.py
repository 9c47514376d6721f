"""``python -m lmbench.sandbox install``: install Pyodide for the code sandbox (idempotent)."""

import sys

from lmbench.sandbox.install import main

sys.exit(main(sys.argv[1:]))
