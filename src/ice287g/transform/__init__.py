"""Stage 3, the dbt project (``models/``): the process that runs it, its vars, and the
conventions ``make lint`` holds its models to (a dbt-score plugin)."""
