import assert from "node:assert/strict";
import { test } from "node:test";
import { awsStopsTheRun, explainAwsError } from "../../src/cli/commands/scan-aws.js";
import { reportError } from "../../src/cli/exit.js";
import { awsProvider } from "../../src/inventory/aws/aws-provider.js";
import { PRICES } from "../helpers/scan-context.js";
import { startFakeAws, useTestCredentials } from "../inventory/aws-server.js";

/** How AWS errors read, and the exit codes they give, from the real SDK against the local fake AWS. */

const AT = new Date("2026-06-01T00:00:00Z");
useTestCredentials();

/** The error a read of us-east-1 fails with, from a fake AWS with these options. */
async function failure(fake: Parameters<typeof startFakeAws>[0]): Promise<unknown> {
  const server = await startFakeAws(fake);
  try {
    const provider = awsProvider(
      {
        regions: ["us-east-1"],
        accounts: [],
        endpoint: server.url,
        metricsWindowDays: 7,
        detachLookbackDays: 30,
        backoff: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
        pageSize: 5,
      },
      PRICES,
      AT,
    );
    for await (const _ of provider.read()) {
      // read to the end or the failure
    }
  } catch (err) {
    return err;
  } finally {
    await server.close();
  }
  assert.fail("the read did not fail");
}

/** What the CLI prints and exits with for an error. */
function reported(err: unknown): { code: number; text: string } {
  const parts: string[] = [];
  const code = reportError(err, { write: (s: string) => parts.push(s) } as unknown as NodeJS.WritableStream);
  return { code, text: parts.join("") };
}

test("throttling past every retry is AWS failing the command (exit 3), said with the attempts made, not bad input", async () => {
  const err = await failure({ at: AT, throttle: { DescribeInstances: 100 } });
  const { code, text } = reported(explainAwsError(err));
  assert.equal(code, 3);
  assert.equal(
    text,
    "costguard: aws: RequestLimitExceeded: Request limit exceeded. (AWS throttled the requests, still after 3 attempts with backoff: try again later, or scan fewer regions or accounts at once)\n",
  );
  assert.equal(awsStopsTheRun(err), undefined, "throttling is one task's failure, not the run's");
});

test("credentials AWS refuses are bad input (exit 2), and stop a run that acts", async () => {
  const err = await failure({ at: AT, refuse: { DescribeInstances: "RequestExpired" } });
  const { code, text } = reported(explainAwsError(err));
  assert.equal(code, 2);
  assert.match(text, /^costguard: aws: RequestExpired: /);
  assert.match(awsStopsTheRun(err) ?? "", /^aws: RequestExpired: /);
  // A refusal of one call on one resource is that task's failure.
  const denied = await failure({ at: AT, refuse: { DescribeInstances: "UnauthorizedOperation" } });
  assert.equal(awsStopsTheRun(denied), undefined);
  assert.equal(reported(explainAwsError(denied)).code, 2);
});
