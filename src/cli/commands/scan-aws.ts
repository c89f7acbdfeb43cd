import { InputError } from "../../errors.js";
import { awsProvider } from "../../inventory/aws/aws-provider.js";
import type { AwsInventoryOptions } from "../../inventory/aws/options.js";
import { DEFAULT_BACKOFF } from "../../inventory/aws/retry.js";
import type { InventoryProvider } from "../../inventory/types.js";
import type { PriceLookup } from "../../scan/prices.js";
import type { CliContext } from "../context.js";

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;

/** `--region`, `--account`, `--profile`, `--endpoint`, with AWS_REGION / AWS_DEFAULT_REGION as the default region. */
export function awsOptionsFromCli(
  flags: { region?: string[]; account?: string[]; profile?: string; endpoint?: string },
  ctx: CliContext,
  metricsWindowDays = 7,
): AwsInventoryOptions {
  const regions = flags.region?.length
    ? flags.region
    : [ctx.env.AWS_REGION ?? ctx.env.AWS_DEFAULT_REGION ?? "us-east-1"];
  for (const r of regions)
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) throw new InputError(`--region ${r} is not an AWS region name`);
  const accounts = (flags.account ?? []).map((a) => {
    if (!ROLE_ARN.test(a))
      throw new InputError(
        `--account must be an IAM role ARN (arn:aws:iam::123456789012:role/NAME), got ${a}`,
      );
    return { roleArn: a };
  });
  return {
    regions,
    accounts,
    ...(flags.profile ? { profile: flags.profile } : {}),
    ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
    metricsWindowDays,
    detachLookbackDays: 30,
    backoff: DEFAULT_BACKOFF,
    pageSize: 500,
  };
}

export async function openAwsInventory(
  options: AwsInventoryOptions,
  prices: PriceLookup,
  at: Date,
): Promise<InventoryProvider> {
  const provider = awsProvider(options, prices, at);
  return {
    name: provider.name,
    async *read(readOptions) {
      try {
        yield* provider.read(readOptions);
      } catch (err) {
        throw explainAwsError(err);
      }
    },
  };
}

/** AWS refusals and missing credentials are configuration problems: one readable line, no stack. */
function explainAwsError(err: unknown): unknown {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.$metadata !== undefined || e?.name === "CredentialsProviderError" || e?.name === "ProviderError")
    return new InputError(`aws: ${e.name ?? "error"}: ${e.message ?? String(err)}`);
  return err;
}
