"""Scale: a render split into segments side by side, many files in a batch, Ray as transport."""
