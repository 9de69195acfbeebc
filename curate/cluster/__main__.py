import sys

from curate.cluster.cli_commands import main

sys.exit(main())
