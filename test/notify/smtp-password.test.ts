import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { SMTPServer } from "smtp-server";
import { cli } from "../helpers/cli.js";

/** A mail server offering no STARTTLS that takes any login, and says what it was given. */
async function plainServer(): Promise<{ port: number; logins: string[]; messages: number }> {
  const seen = { port: 0, logins: [] as string[], messages: 0 };
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(auth, _session, callback) {
      seen.logins.push(`${auth.username}:${auth.password}`);
      callback(null, { user: auth.username });
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on("end", () => {
        seen.messages++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  seen.port = (server.server.address() as AddressInfo).port;
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return seen;
}

test("a password goes to an smtp:// server only over STARTTLS: one that does not offer it is told, and never given it", async () => {
  const server = await plainServer();
  const cwd = mkdtempSync(join(tmpdir(), "costguard-smtp-password-"));
  const send = (url: string, to: string) =>
    cli(["notify", "send", `email:${to}`, "--text", "hi"], {
      cwd,
      env: { COSTGUARD_NOTIFY_OUTBOX: join(cwd, "outbox.db"), COSTGUARD_SMTP_URL: url },
    });

  const withPassword = await send(`smtp://bob:secret@127.0.0.1:${server.port}`, "a@example.com");
  assert.equal(withPassword.code, 1, withPassword.stderr);
  assert.match(
    withPassword.stderr,
    /does not offer STARTTLS: costguard sends a password only over TLS \(smtps:\/\/ for a server that speaks TLS from the start\)/,
  );
  assert.deepEqual(server.logins, [], "the password was sent in clear");
  assert.equal(server.messages, 0);

  // Without a password there is nothing to protect: plain SMTP as before.
  const without = await send(`smtp://127.0.0.1:${server.port}`, "b@example.com");
  assert.equal(without.code, 0, without.stderr);
  assert.equal(server.messages, 1);
});
