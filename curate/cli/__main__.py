"""``python -m curate.cli ...``: the same as the ``curate`` console script."""

import sys

from curate.cli.main import main

sys.exit(main())
