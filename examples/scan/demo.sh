#!/usr/bin/env sh
# A sandbox estate scanned, acted on, and scanned again: the finding lifecycle end to end.
# Uses its own database so it never touches ./.costguard. Runs from any folder, after `npm ci` in a
# clone or where costguard is installed (`sh node_modules/costguard/examples/scan/demo.sh`).
set -e
# The paths below are the package's own (bin/, examples/): taken from its root, wherever this is run.
cd "$(dirname "$0")/../.."
DB="${TMPDIR:-/tmp}/costguard-demo-$$.db"
CG="node bin/costguard.js"
export COSTGUARD_DATABASE_URL="$DB"

$CG sandbox init --resources 300 --seed demo --at 2026-06-01T00:00:00Z --billing "${TMPDIR:-/tmp}/costguard-demo-$$-billing.csv"
$CG scan --policies examples/policies --inventory sandbox --at 2026-06-01T00:00:00Z

# Act on the most expensive idle instance, as remediation would.
ID=$($CG scan -p examples/policies -i sandbox --no-store --format csv --at 2026-06-01T00:00:00Z 2>/dev/null \
  | awk -F, '$9 == "idle-resource-detection" && $2 ~ /^i-/ { print $16 " " $2 }' | sort -rn | head -1 | cut -d' ' -f2)
$CG sandbox act snapshot "$ID" --at 2026-06-02T09:00:00Z
$CG sandbox act stop "$ID" --at 2026-06-02T09:00:05Z

# The next scan sees the stopped instance: its finding is resolved.
$CG scan --policies examples/policies --inventory sandbox --at 2026-06-03T00:00:00Z | head -2
# What that scan no longer saw, and what it saves.
$CG findings list --resolved-in latest
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB"-lock-* "${TMPDIR:-/tmp}/costguard-demo-$$-billing.csv"
