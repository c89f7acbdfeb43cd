import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { loadNotifyConfig } from "../../src/notify/config.js";
import { parseRemediationConfig } from "../../src/remediation/config.js";

/** A folder of its own holding `text` as its costguard.yaml. */
function configFolder(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-load-"));
  writeFileSync(join(dir, "costguard.yaml"), text);
  return dir;
}

const load = (dir: string) => {
  loadConfig({ env: {}, cwd: dir });
  loadNotifyConfig({ env: {}, cwd: dir });
};

test("every numeric setting refuses NaN and infinity (.nan disabled the share cap: 'cap NaN')", () => {
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
    assert.throws(
      () => parseRemediationConfig({ safety: { maxActionsPercent: value } }),
      /^InputError: remediation\.safety\.maxActionsPercent must be a number from 0 to 100$/,
      String(value),
    );
  const settings = [
    "remediation: {safety: {maxActionsPercent: V}}",
    "remediation: {safety: {maxActions: V}}",
    "remediation: {maxAttempts: V}",
    "remediation: {grace: {medium: V}}",
    "remediation: {finalWarning: {high: V}}",
    "exceptions: {reviewIntervalDays: V}",
    "exceptions: {expiringWithinDays: V}",
    "notify: {digest: V}",
    "notify: {retry: {initialDelaySeconds: V}}",
    "notify: {retry: {maxDelaySeconds: V}}",
    "notify: {retry: {leaseSeconds: V}}",
    "notify: {retry: {timeoutSeconds: V}}",
    "notify: {email: {smtp: {host: mail.example.com, port: V}}}",
  ];
  for (const setting of settings)
    for (const value of [".nan", ".inf", "-.inf"]) {
      const text = `${setting.replace("V", value)}\n`;
      assert.throws(() => load(configFolder(text)), /InputError/, text);
    }
});
