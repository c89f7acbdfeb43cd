import { InputError, ServiceFailedError } from "../../errors.js";
import { awsProvider, rolesByAccount } from "../../inventory/aws/aws-provider.js";
import type { AwsInventoryOptions } from "../../inventory/aws/options.js";
import { DEFAULT_BACKOFF } from "../../inventory/aws/retry.js";
import type { InventoryProvider } from "../../inventory/types.js";
import type { PriceLookup } from "../../scan/prices.js";
import type { CliContext } from "../context.js";

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;

/**
 * An AWS region's name: a partition prefix of two to four letters (`us`, `cn`, `eusc` for the European
 * Sovereign Cloud), words, and a number (`us-east-1`, `us-gov-west-1`, `eusc-de-east-1`).
 */
const REGION_NAME = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

/** `--region`, `--account`, `--profile`, `--endpoint`, with AWS_REGION / AWS_DEFAULT_REGION as the default region. */
export function awsOptionsFromCli(
  flags: { region?: string[]; account?: string[]; profile?: string; endpoint?: string },
  ctx: CliContext,
  metricsWindowDays = 7,
): AwsInventoryOptions {
  // An environment variable set to nothing is unset, as the AWS CLI takes it.
  const fromEnv = ctx.env.AWS_REGION || ctx.env.AWS_DEFAULT_REGION;
  const allRegions = flags.region?.includes("all") ?? false;
  if (allRegions && flags.region!.length > 1)
    throw new InputError(
      `--region all scans every region enabled for the account: it takes no other --region (got ${flags.region!.join(", ")})`,
    );
  // With `all`, the default region is where costguard asks which regions are enabled.
  const regions = flags.region?.length && !allRegions ? flags.region : [fromEnv || "us-east-1"];
  for (const r of regions) {
    if (REGION_NAME.test(r)) continue;
    const where =
      flags.region?.length && !allRegions
        ? `--region ${r}`
        : `${ctx.env.AWS_REGION ? "AWS_REGION" : "AWS_DEFAULT_REGION"}=${r}`;
    const lower = r.trim().toLowerCase();
    throw new InputError(
      `${where} is not an AWS region name${lower !== r && REGION_NAME.test(lower) ? ` (region names are lower case: ${lower})` : " (like us-east-1 or eu-west-2)"}`,
    );
  }
  const accounts = (flags.account ?? []).map((a) => {
    if (!ROLE_ARN.test(a))
      throw new InputError(
        `--account must be an IAM role ARN (arn:aws:iam::123456789012:role/NAME), got ${a}`,
      );
    return { roleArn: a };
  });
  // Two roles into one account are refused here, before a store is opened or anything is read.
  rolesByAccount(accounts);
  if (flags.endpoint !== undefined && !/^https?:\/\/[^\s/]+/i.test(flags.endpoint))
    throw new InputError(`--endpoint must be an http:// or https:// URL, got ${flags.endpoint}`);
  return {
    regions,
    ...(allRegions ? { allRegions } : {}),
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
  // The SDK warns every run on Node.js 20 that its releases after January 2027 need Node.js 22: a
  // notice for whoever picks costguard's SDK versions (see docs/scan.md), not for someone scanning.
  // Setting the variable (to anything) keeps the SDK's own behaviour.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
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

/** Where the standard chain looks, for the error that says it found nothing. */
const CREDENTIAL_HINT =
  "costguard reads AWS credentials from the standard chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
  "AWS_PROFILE or --profile (shared config and credentials files, SSO after `aws sso login`), web " +
  "identity, or a container or instance role";

/** Socket errors that mean AWS (or --endpoint) could not be reached at all. */
const UNREACHABLE = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** Error codes AWS answers when it refuses the credentials themselves, whatever the call. */
const CREDENTIALS_REFUSED = new Set([
  "AuthFailure",
  "RequestExpired",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "InvalidSignatureException",
  "MissingAuthenticationToken",
  "CredentialsProviderError",
]);

/** Error codes of AWS throttling (the SDK retried them with backoff until its attempts ran out). */
const THROTTLED = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "SlowDown",
  "EC2ThrottledException",
  "BandwidthLimitExceeded",
]);

/**
 * For acting on AWS (ResourceActions.stopsTheRun): credentials AWS refuses fail every task alike,
 * so the run stops at the first, in the words a scan would use.
 */
export function awsStopsTheRun(err: unknown): string | undefined {
  const name = (err as { name?: unknown })?.name;
  if (typeof name !== "string" || !CREDENTIALS_REFUSED.has(name)) return undefined;
  // Acting names the call and the code in the message already (aws-actions.ts).
  const message = (err as { message?: unknown }).message;
  if (typeof message === "string" && message.includes(`: ${name}: `)) return `aws: ${message}`;
  const explained = explainAwsError(err);
  return explained instanceof Error ? explained.message : String(explained);
}

/**
 * AWS refusals, missing credentials and an unreachable endpoint are configuration problems:
 * readable lines, no stack. Throttling past every retry, and AWS's own failures (5xx), are not:
 * they are said as such, with the attempts made, as a service that failed (exit 3).
 */
export function explainAwsError(err: unknown): unknown {
  const e = err as {
    name?: string;
    message?: string;
    code?: string;
    hostname?: string;
    address?: string;
    port?: number;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  if (typeof e?.code === "string" && UNREACHABLE.has(e.code)) {
    const where =
      e.hostname ?? (e.address ? `${e.address}${e.port ? `:${e.port}` : ""}` : "the AWS endpoint");
    const tries = e.$metadata?.attempts ? ` after ${e.$metadata.attempts} attempts` : "";
    return new InputError(
      `aws: cannot reach ${where} (${e.code})${tries}: check the network, a proxy, --region and --endpoint`,
    );
  }
  const status = e?.$metadata?.httpStatusCode;
  const throttled = typeof e?.name === "string" && THROTTLED.has(e.name);
  if (e?.$metadata !== undefined && (throttled || (status !== undefined && status >= 500))) {
    const tries = e.$metadata.attempts ? `, still after ${e.$metadata.attempts} attempts with backoff` : "";
    return new ServiceFailedError(
      `aws: ${e.name ?? "error"}: ${e.message ?? String(err)} (${throttled ? `AWS throttled the requests${tries}: try again later, or scan fewer regions or accounts at once` : `a failure on AWS's side (HTTP ${status})${tries}: try again later`})`,
    );
  }
  if (e?.$metadata !== undefined || e?.name === "CredentialsProviderError" || e?.name === "ProviderError") {
    const line = `aws: ${e.name ?? "error"}: ${e.message ?? String(err)}`;
    return new InputError(e.name === "CredentialsProviderError" ? `${line}\n${CREDENTIAL_HINT}` : line);
  }
  return err;
}
