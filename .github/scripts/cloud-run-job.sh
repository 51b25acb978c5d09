#!/usr/bin/env bash
# Runs a Cloud Run job once with overridden arguments and, optionally, extra environment variables taken from
# Secret Manager, then waits for the execution and fails unless every task succeeded.
#
#   cloud-run-job.sh PROJECT REGION JOB ARGS_JSON [ENV_NAME=SECRET_ID ...]
#   cloud-run-job.sh acme-prod europe-north1 lifeboat-prod-dr-orders-restore '["drill","--backup","latest"]' \
#       LIFEBOAT_SCRATCH_URL=lifeboat-prod-dr-orders-recovery-url
#
# Why not `gcloud run jobs execute --args`: it cannot add a secret-backed variable to one execution, and the
# drill against a recovered instance needs its connection URL as LIFEBOAT_SCRATCH_URL without the value ever
# leaving Secret Manager. The Cloud Run Admin API's RunJob overrides can (EnvVar.valueSource.secretKeyRef).
set -euo pipefail

if [ $# -lt 4 ]; then
  echo "usage: $0 PROJECT REGION JOB ARGS_JSON [ENV_NAME=SECRET_ID ...]" >&2
  exit 2
fi
project=$1 region=$2 job=$3 args_json=$4
shift 4

env_json='[]'
for pair in "$@"; do
  name=${pair%%=*} secret=${pair#*=}
  if [[ ! $name =~ ^[A-Z_][A-Z0-9_]*$ || ! $secret =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "bad ENV_NAME=SECRET_ID pair: $pair" >&2
    exit 2
  fi
  env_json=$(jq -c --arg n "$name" --arg s "$secret" '. + [{name: $n, valueSource: {secretKeyRef: {secret: $s, version: "latest"}}}]' <<<"$env_json")
done
echo "$args_json" | jq -e 'type == "array" and all(type == "string")' >/dev/null || {
  echo "ARGS_JSON must be a JSON array of strings, got: $args_json" >&2
  exit 2
}

api="https://run.googleapis.com/v2"
token=$(gcloud auth print-access-token)
body=$(jq -nc --argjson a "$args_json" --argjson e "$env_json" '{overrides: {containerOverrides: [{args: $a, env: $e}]}}')
operation=$(curl -fsS -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  "$api/projects/$project/locations/$region/jobs/$job:run" -d "$body")
execution=$(jq -r '.metadata.name' <<<"$operation")
echo "started $execution"

# Executions of a Lifeboat job last minutes to hours: poll once a minute, refreshing the token as it ages.
while :; do
  token=$(gcloud auth print-access-token)
  state=$(curl -fsS -H "Authorization: Bearer $token" "$api/$execution")
  if [ "$(jq -r '.completionTime // empty' <<<"$state")" != "" ]; then
    succeeded=$(jq -r '.succeededCount // 0' <<<"$state")
    failed=$(jq -r '.failedCount // 0' <<<"$state")
    cancelled=$(jq -r '.cancelledCount // 0' <<<"$state")
    echo "$execution: succeeded=$succeeded failed=$failed cancelled=$cancelled"
    echo "logs: $(jq -r '.logUri // empty' <<<"$state")"
    [ "$failed" = 0 ] && [ "$cancelled" = 0 ] && [ "$succeeded" -ge 1 ]
    exit $?
  fi
  sleep 60
done
