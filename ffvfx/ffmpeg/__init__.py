"""Running ffmpeg: which tools there are, what an input is, building and running one command
(atomic outputs, progress, watchdog, child processes), frame pipes, caches and GPU targets."""
