"""`prodlens run`: the one command for cron and schedulers.

It takes the per-home run lock, then runs the steps load → retention → build → publish → export →
freshness. A failed step stops the run, leaves the published database as it was, and exits with the
step's code (see `prodlens.run.steps.EXIT_CODES`). Modules:

- config: the configuration file (prodlens.toml or .dlt/config.toml) and its environment overrides;
- lock: the per-home run lock (flock on PRODLENS_HOME/run.lock, holding the PID);
- progress: a progress bar on a terminal, plain log lines otherwise;
- retention: the optional purge of old raw and session-level rows;
- export: Parquet exports of the marts under PRODLENS_HOME/parquet;
- freshness: `dbt source freshness` on the raw sources;
- steps: the run itself, its exit codes and its record in runs.log and raw.etl_runs;
- status: what `prodlens status` shows.
"""
