import assert from "node:assert/strict";
import { test } from "node:test";
import { awsStopsTheRun } from "../../src/cli/commands/scan-aws.js";
import { awsResourceActions } from "../../src/inventory/aws/aws-actions.js";
import { PRICES } from "../helpers/scan-context.js";
import { ec2World } from "./aws-ec2-world.js";
import { useFakeAws } from "./aws-server.js";

/** What an action's failure on AWS says: the call, the region and AWS's code, besides its message. */

const AT = new Date("2026-06-01T00:00:00Z");
const world = ec2World(
  [
    {
      id: "i-0ccc0000000000001",
      type: "t3.large",
      state: "running",
      tags: {},
      launched: "2025-01-01T00:00:00.000Z",
    },
  ],
  [],
);
const fake = useFakeAws({
  at: AT,
  world,
  refuse: { StopInstances: "UnauthorizedOperation", CreateTags: "RequestExpired" },
});

function actions() {
  return awsResourceActions(
    {
      regions: ["us-east-1"],
      accounts: [],
      endpoint: fake().url,
      metricsWindowDays: 7,
      detachLookbackDays: 30,
      backoff: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      pageSize: 5,
    },
    () => ({ region: "us-east-1" }),
    PRICES,
    { maxWaitSeconds: 5, minDelaySeconds: 1, maxDelaySeconds: 1 },
  );
}

test("a refused action names the call, the region and AWS's code; its error keeps the code as its name", async () => {
  const aws = actions();
  try {
    await assert.rejects(aws.stop("i-0ccc0000000000001"), (err: Error) => {
      assert.equal(err.name, "UnauthorizedOperation");
      assert.match(err.message, /^StopInstances in us-east-1: UnauthorizedOperation: /);
      assert.equal(awsStopsTheRun(err), undefined, "one call refused: that task's failure");
      return true;
    });
    await assert.rejects(aws.addTags("i-0ccc0000000000001", { owner: "maria" }), (err: Error) => {
      assert.match(err.message, /^CreateTags in us-east-1: RequestExpired: /);
      // Credentials refused stop the run, said once.
      assert.match(awsStopsTheRun(err) ?? "", /^aws: CreateTags in us-east-1: RequestExpired: [^:]+$/);
      return true;
    });
  } finally {
    aws.close();
  }
});
