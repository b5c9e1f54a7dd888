"""``python -m tools.gpukit DIR`` (from the repository root)."""

import sys

from tools.gpukit.gpukit import main

sys.exit(main())
