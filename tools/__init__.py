"""Developer tools outside the package: the GPU check kit, the same-output check."""
