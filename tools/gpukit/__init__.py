"""The GPU check kit: ``python -m tools.gpukit DIR``."""
