"""``python -m bench ...`` (from the repository root; ``bin/bench`` does that)."""

import sys

from bench.bench import main

sys.exit(main())
