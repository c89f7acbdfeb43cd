"""A straightforward Python reference for bench/budget.ts: the csv module, json.loads of every Tags value,
Decimal sums of each budget's matching charges per period. Prints one JSON line with its time, peak RSS
and the spend it found, so the benchmark can check both implementations agree.

usage: budget_reference.py FOCUS_CSV BUDGETS_JSON
BUDGETS_JSON: [{"key", "selector", "costColumn", "currency", "periodStart", "at"}] (ISO UTC times)."""
import csv
import json
import resource
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=timezone.utc)


def matches(selector, row, tags):
    for key, value in selector.get("tags", {}).items():
        if tags.get(key) != value:
            return False
    if "provider" in selector and (row["ProviderName"] or "").lower() != selector["provider"].lower():
        return False
    if "service" in selector and row["ServiceName"] != selector["service"]:
        return False
    if "region" in selector and selector["region"] not in (row["RegionId"], row["RegionName"]):
        return False
    if "subAccount" in selector and selector["subAccount"] not in (row["SubAccountId"], row["SubAccountName"]):
        return False
    return True


def main():
    path, budgets_json = sys.argv[1], sys.argv[2]
    budgets = json.loads(budgets_json)
    for b in budgets:
        b["start"] = parse_time(b["periodStart"])
        b["end"] = parse_time(b["at"])
        b["spend"] = Decimal(0)
    started = time.perf_counter()
    cpu_started = time.process_time()
    rows = 0
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows += 1
            start = parse_time(row["ChargePeriodStart"])
            tags_text = row["Tags"]
            tags = {} if tags_text in ("", "NULL") else json.loads(tags_text)
            for b in budgets:
                if b["start"] <= start < b["end"] and row["BillingCurrency"] == b["currency"] and matches(b["selector"], row, tags):
                    b["spend"] += Decimal(row[b["costColumn"]])
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    print(json.dumps({
        "mode": "python",
        "rows": rows,
        "seconds": seconds,
        "cpuSeconds": cpu_seconds,
        "maxRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "spend": {b["key"]: str(b["spend"].normalize()) if b["spend"] != 0 else "0" for b in budgets},
    }))


main()
