"""On-call analysis of one job on its full data: series, anomalies, log scans, checkpoints and
stalls. Pure functions on a parsed `Job`, its raw log items and numpy series: no I/O, no Flask,
and nothing from the view models or the sources (only `dashboard.models`, numpy and the
standard library)."""
