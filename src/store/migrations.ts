import { EXCEPTION_MIGRATIONS } from "../exceptions/migrations.js";
import { INVENTORY_MIGRATIONS } from "../inventory/migrations.js";
import { NOTIFY_MIGRATIONS } from "../notify/migrations.js";
import { REMEDIATION_MIGRATIONS } from "../remediation/migrations.js";
import { FINGERPRINT_INVENTORY_MIGRATION, SCAN_MIGRATIONS } from "../scan/migrations.js";
import { CORE_MIGRATIONS } from "./core-migrations.js";
import type { Migration } from "./migrate.js";

/**
 * Every migration, in the order they run. A feature keeps its migrations beside its repository
 * (`src/<feature>/migrations.ts`) and appends its list here; never reorder or edit a released one.
 */
export const MIGRATIONS: readonly Migration[] = [
  ...CORE_MIGRATIONS,
  ...INVENTORY_MIGRATIONS,
  ...SCAN_MIGRATIONS,
  ...EXCEPTION_MIGRATIONS,
  ...REMEDIATION_MIGRATIONS,
  ...NOTIFY_MIGRATIONS,
  // Rewrites findings and remediation tasks both: after the features that made them.
  FINGERPRINT_INVENTORY_MIGRATION,
];
