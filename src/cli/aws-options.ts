import type { Command } from "commander";
import { InputError } from "../errors.js";
import { collect } from "./policy-options.js";

/** The flags that say which AWS estate `--inventory aws` reads (see scan-aws.ts). */
export interface AwsFlags {
  region?: string[];
  account?: string[];
  profile?: string;
  endpoint?: string;
}

/** `--region`, `--account`, `--profile` and `--endpoint`, for every command that reads `--inventory aws`. */
export function addAwsOptions(cmd: Command): Command {
  return cmd
    .option(
      "--region <region>",
      "aws: region to scan (repeatable; all: every region enabled for the account; default $AWS_REGION or us-east-1)",
      collect,
    )
    .option("--account <roleArn>", "aws: an account to scan through this IAM role (repeatable)", collect)
    .option("--profile <name>", "aws: named profile for the standard credential chain")
    .option("--endpoint <url>", "aws: send API calls to this endpoint (tests, LocalStack)");
}

/** The AWS flags on another inventory would be ignored: a scan of the wrong estate, said nowhere. */
export function refuseAwsFlagsElsewhere(spec: string, flags: AwsFlags): void {
  if (spec === "aws") return;
  const given = (
    [
      ["--region", flags.region?.length],
      ["--account", flags.account?.length],
      ["--profile", flags.profile],
      ["--endpoint", flags.endpoint],
    ] as const
  ).filter(([, v]) => v);
  if (given.length > 0)
    throw new InputError(
      `${given.map(([f]) => f).join(", ")} ${given.length === 1 ? "is" : "are"} for --inventory aws, not ${spec}`,
    );
}
