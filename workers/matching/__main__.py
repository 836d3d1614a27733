"""python -m workers.matching: the offline `factcheck match` command."""

import sys

from workers.matching.cli import main

sys.exit(main())
