"""Pipelines: stages chained into one final graph and render (matte folders, loops, studio,
inpaint, presets). What a CLI command calls."""
