#!/usr/bin/env bash
# Gives a PostgreSQL role on a Cloud SQL instance the password held in a Secret Manager secret (a connection URL
# `postgresql://ROLE:PASSWORD@/...`), through the Cloud SQL Admin API's users.update, run as Cloud SQL's own admin.
#
#   sql-role-password.sh PROJECT INSTANCE ROLE URL_SECRET
#   sql-role-password.sh acme-prod orders-pg-dr orders_app lifeboat-prod-dr-orders-application-url
#
# After a DR restore: `restore --roles` recreated the application's role from the backup (with its grants, without a
# password: Cloud SQL hides password hashes from backups), and the DR stack made a new password for it in the
# application URL secret. Why not `gcloud sql users set-password --password`: the password would be in the process
# list. Here it goes from gcloud's stdout through shell builtins and pipes into the request body, never an argument.
set -euo pipefail

if [ $# -ne 4 ]; then
  echo "usage: $0 PROJECT INSTANCE ROLE URL_SECRET" >&2
  exit 2
fi
project=$1 instance=$2 role=$3 secret=$4
if [[ ! $role =~ ^[a-z_][a-z0-9_$]*$ || ! $secret =~ ^[A-Za-z0-9_-]+$ || ! $instance =~ ^[a-z][a-z0-9-]*$ ]]; then
  echo "bad ROLE, INSTANCE or URL_SECRET: expected a role name, an instance name and a secret id" >&2
  exit 2
fi

url=$(gcloud secrets versions access latest --secret "$secret" --project "$project")
rest=${url#*://}
userinfo=${rest%%@*}
if [ "${userinfo%%:*}" != "$role" ]; then
  echo "secret $secret holds a URL for another role than $role" >&2
  exit 2
fi
password=${userinfo#*:}
token=$(gcloud auth print-access-token)
# printf is a builtin: the password never becomes an argument of a program.
printf '%s' "$password" | jq -Rsc --arg name "$role" '{name: $name, password: .}' \
  | curl -fsS -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      "https://sqladmin.googleapis.com/v1/projects/$project/instances/$instance/users?name=$role" --data @- >/dev/null
echo "role $role on $instance: password set from $secret"
