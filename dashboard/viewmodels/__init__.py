"""View models: pure functions from parsed jobs to what the templates show."""
