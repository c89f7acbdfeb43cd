#!/usr/bin/env sh
# The whole compliance cycle on a sandbox estate: scan → exceptions → remediation with grace periods
# → notifications, over eight simulated days. Uses its own database and outbox, never ./.costguard.
# Runs from any folder, after `npm ci && npm run build` in a clone (`npm run demo` builds too) or where
# costguard is installed (`sh node_modules/costguard/examples/cycle/demo.sh`).
set -e
# The paths below are the package's own (bin/, examples/): taken from its root, wherever this is run.
cd "$(dirname "$0")/../.."
TMP="${TMPDIR:-/tmp}/costguard-cycle-$$"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
export COSTGUARD_DATABASE_URL="$TMP/costguard.db" COSTGUARD_NOTIFY_OUTBOX="$TMP/notify.db"
CG="node bin/costguard.js"
RUN="$CG run --config examples/cycle/costguard.yaml --inventory sandbox"

$CG sandbox init --resources 200 --seed demo --at 2026-06-01T00:00:00Z --no-billing

echo "== day 0: what would happen (a dry run changes nothing)"
$CG remediate --config examples/cycle/costguard.yaml --inventory sandbox --at 2026-06-01T09:00:00Z | tail -4

echo "== an exception for one untagged volume: its owner asks, the requester cannot approve, security can"
VOL=$($CG scan -p examples/policies -i sandbox --no-store --format csv --at 2026-06-01T09:00:00Z 2>/dev/null \
  | awk -F, '$9 == "mandatory-tags" && $2 ~ /^vol-/ { print $2 }' | head -1)
EXC=$($CG exceptions request --config examples/cycle/costguard.yaml --resource "$VOL" --policy mandatory-tags \
  --rule cost-center-required --justification "migration in progress" --duration 30d --as alice --at 2026-06-01T09:00:00Z)
$CG exceptions approve "$EXC" --config examples/cycle/costguard.yaml --as alice || echo "(refused, exit $?)"
$CG exceptions approve "$EXC" --config examples/cycle/costguard.yaml --as frank --at 2026-06-01T09:05:00Z | head -1

echo "== day 0: tasks created, owners warned once"
$RUN --execute --at 2026-06-01T10:00:00Z
echo "== day 1: high findings' 24-hour grace is over: tagged and notified"
$RUN --execute --at 2026-06-02T10:00:00Z | grep -E "Remediated|Failed|Compliance|Realised"
echo "== day 8: medium findings were escalated on day 7 and are now acted on: idle stopped, orphans deleted"
# Day 7 escalates them: its output (and its line about notifications) is not day 8's; shown if it fails.
$RUN --execute --at 2026-06-08T10:00:00Z >/dev/null 2>"$TMP/day7.err" || { cat "$TMP/day7.err" >&2; exit 1; }
$RUN --execute --at 2026-06-09T11:00:00Z | grep -E "Remediated|Failed|Compliance|Realised"
$CG exceptions report --config examples/cycle/costguard.yaml --at 2026-06-09T11:00:00Z | head -4
$CG notify list --status pending --limit 3
echo "== the audit log: what was done to one of the resources acted on, the latest first"
ACTED=$($CG audit list --action remediation.completed --limit 1 --format csv | awk -F, 'NR == 2 { print $6 }')
$CG audit list --subject "$ACTED"
