import type { SqlDb } from "./sql.js";

/** Small named values the store keeps (e.g. the sandbox's seed and clock). */
export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, at: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export function sqlSettingsRepository(db: SqlDb): SettingsRepository {
  return {
    async get(key) {
      const row = await db.get<{ value: string }>("SELECT value FROM settings WHERE key = ?", [key]);
      return row?.value;
    },
    async set(key, value, at) {
      await db.run(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        [key, value, at],
      );
    },
    async delete(key) {
      await db.run("DELETE FROM settings WHERE key = ?", [key]);
    },
  };
}
