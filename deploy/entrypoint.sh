#!/bin/sh
# Every container of the deployment (services and run workers) starts here: the home's dagster.yaml is brought up to
# date from this container's environment (PostgreSQL storage, the run queue's limits, BKNTC_SMS_DAGSTER_RUN_LAUNCHER),
# as the CLI and the console do it, then the container's command runs.
set -e
python -c 'from orchestration.config import Home; from orchestration.defs.sending.instance import write_instance_config; write_instance_config(Home.resolve())'
exec "$@"
