"""On-call analysis of one job on its full data: series, anomalies, log scans, progress and stalls.
Pure functions: no I/O, no Flask, nothing from the view models or the sources (only
`dashboard.models`, numpy and the standard library)."""
