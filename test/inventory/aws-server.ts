import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before } from "node:test";
import { answerEc2, answerRds, type Ec2World, ec2World } from "./aws-ec2-world.js";

/**
 * A local stand-in for the AWS endpoints the aws provider calls (EC2, RDS, CloudWatch, STS),
 * answering the real SDK clients with the recorded wire-format responses in test/fixtures/aws.
 * It checks every request is SigV4-signed, pages the way AWS pages (NextToken, Marker), throttles
 * the first calls of chosen actions, and logs each call.
 */
const FIXTURES = join(import.meta.dirname, "..", "fixtures", "aws");
const DEFAULT_ACCOUNT = "111111111111";

export interface CallLog {
  action: string;
  region: string;
  service: string;
  accessKey: string;
  status: number;
}

export interface FakeAws {
  url: string;
  calls: CallLog[];
  close(): Promise<void>;
}

export async function startFakeAws(options: {
  at: Date;
  throttle?: Record<string, number>;
  /** Actions answered with this EC2 error code (HTTP 403), e.g. UnauthorizedOperation. */
  refuse?: Record<string, string>;
  /** Actions answered 200 with a body that is not AWS's (a proxy's login page). */
  foreign?: string[];
  /** EC2 with state (aws-ec2-world.ts): EC2 calls are answered from it, in every region, instead of the fixtures. */
  world?: Ec2World;
  /** CloudWatch datapoints besides the fixture's, as it keys them (`MetricName|dimension value`). */
  metrics?: Record<string, { values: number[]; ago: number[] }>;
}): Promise<FakeAws> {
  const calls: CallLog[] = [];
  const throttleLeft = { ...(options.throttle ?? {}) };
  const metrics = {
    ...(JSON.parse(readFileSync(join(FIXTURES, "cloudwatch-metrics.json"), "utf8")) as Record<
      string,
      { values: number[]; ago: number[] }
    >),
    ...options.metrics,
  };
  const fixture = (name: string, account: string) =>
    readFileSync(join(FIXTURES, name), "utf8").replaceAll("OWNER_ID", account);

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const auth = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
      req.headers.authorization ?? "",
    );
    const target = req.headers["x-amz-target"];
    const form = new URLSearchParams(typeof target === "string" ? "" : body);
    const action = typeof target === "string" ? target.split(".").pop()! : (form.get("Action") ?? "?");
    const log: CallLog = {
      action,
      region: auth?.[2] ?? "",
      service: auth?.[3] ?? "",
      accessKey: auth?.[1] ?? "",
      status: 200,
    };
    calls.push(log);
    const reply = (status: number, text: string, type: string, headers: Record<string, string> = {}) => {
      log.status = status;
      res.writeHead(status, { "content-type": type, "x-amzn-requestid": `req-${calls.length}`, ...headers });
      res.end(text);
    };
    if (!auth || !req.headers.authorization?.startsWith("AWS4-HMAC-SHA256 ")) {
      reply(403, fixture("ec2-throttled.xml", "").replace("RequestLimitExceeded", "AuthFailure"), "text/xml");
      return;
    }
    const account = /^ASIA(\d{12})$/.exec(log.accessKey)?.[1] ?? DEFAULT_ACCOUNT;
    if ((throttleLeft[action] ?? 0) > 0) {
      throttleLeft[action]!--;
      if (log.service === "monitoring")
        reply(
          400,
          JSON.stringify({ __type: "Throttling", message: "Rate exceeded" }),
          "application/x-amz-json-1.0",
          {
            "x-amzn-query-error": "Throttling;Sender",
          },
        );
      else if (log.service === "rds") reply(400, fixture("rds-throttled.xml", account), "text/xml");
      else reply(503, fixture("ec2-throttled.xml", account), "text/xml");
      return;
    }
    const refusal = options.refuse?.[action];
    if (refusal) {
      reply(403, fixture("ec2-throttled.xml", account).replace("RequestLimitExceeded", refusal), "text/xml");
      return;
    }
    if (options.foreign?.includes(action)) {
      reply(200, "<html><body><h1>Sign in to continue</h1></body></html>", "text/html");
      return;
    }
    const hasData = log.region === "us-east-1";
    if (options.world && (log.service === "ec2" || log.service === "rds")) {
      const world = hasData ? options.world : ec2World([], [], options.world.databases ? [] : undefined);
      const answer =
        log.service === "ec2"
          ? answerEc2(world, action, form, account)
          : answerRds(world, action, form, account);
      if (answer) {
        reply(answer.status, answer.body, "text/xml");
        return;
      }
    }
    switch (action) {
      case "AssumeRole": {
        const roleAccount =
          /arn:aws:iam::(\d{12}):role\//.exec(form.get("RoleArn") ?? "")?.[1] ?? DEFAULT_ACCOUNT;
        reply(200, fixture("sts-assume-role.xml", roleAccount), "text/xml");
        return;
      }
      case "GetCallerIdentity":
        reply(200, fixture("sts-get-caller-identity.xml", account), "text/xml");
        return;
      case "DescribeRegions": {
        // As EC2 answers: the regions enabled for the account, and with AllRegions=true those it has
        // not opted in to as well.
        const all = form.get("AllRegions") === "true";
        const extra =
          "<item><regionName>me-south-1</regionName><regionEndpoint>ec2.me-south-1.amazonaws.com</regionEndpoint><optInStatus>not-opted-in</optInStatus></item>";
        reply(
          200,
          fixture("ec2-describe-regions.xml", account).replace("<!--ALL-->", all ? extra : ""),
          "text/xml",
        );
        return;
      }
      case "DescribeInstances":
        if (!hasData) reply(200, fixture("ec2-empty-instances.xml", account), "text/xml");
        else if (!form.get("NextToken"))
          reply(200, fixture("ec2-describe-instances-1.xml", account), "text/xml");
        else if (form.get("NextToken") === "eyJ2IjoiMiIsImMiOiJpbnN0YW5jZXMtcGFnZS0yIn0=")
          reply(200, fixture("ec2-describe-instances-2.xml", account), "text/xml");
        else
          reply(
            400,
            "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>bad token</Message></Error></Errors></Response>",
            "text/xml",
          );
        return;
      case "DescribeVolumes":
        if (!hasData) reply(200, fixture("ec2-empty-volumes.xml", account), "text/xml");
        else if (!form.get("NextToken"))
          reply(200, fixture("ec2-describe-volumes-1.xml", account), "text/xml");
        else reply(200, fixture("ec2-describe-volumes-2.xml", account), "text/xml");
        return;
      case "DescribeDBInstances":
        if (hasData && form.get("Filters.Filter.1.Name") === "dbi-resource-id") {
          // As RDS filters: the instances (of every page) with that resource id, on one page.
          const wanted = form.get("Filters.Filter.1.Values.Value.1") ?? "";
          const all = ["rds-describe-db-instances-1.xml", "rds-describe-db-instances-2.xml"].flatMap(
            (f) => fixture(f, account).match(/<DBInstance>[\s\S]*?<\/DBInstance>/g) ?? [],
          );
          const kept = all.filter((d) => d.includes(`<DbiResourceId>${wanted}</DbiResourceId>`));
          reply(
            200,
            fixture("rds-empty.xml", account).replace(
              /<DBInstances\s*\/>|<DBInstances>\s*<\/DBInstances>/,
              `<DBInstances>${kept.join("")}</DBInstances>`,
            ),
            "text/xml",
          );
        } else if (!hasData) reply(200, fixture("rds-empty.xml", account), "text/xml");
        else if (!form.get("Marker"))
          reply(200, fixture("rds-describe-db-instances-1.xml", account), "text/xml");
        else reply(200, fixture("rds-describe-db-instances-2.xml", account), "text/xml");
        return;
      case "GetMetricData": {
        reply(
          200,
          JSON.stringify(metricData(JSON.parse(body), metrics, options.at)),
          "application/x-amz-json-1.0",
        );
        return;
      }
      default:
        reply(
          400,
          `<Response><Errors><Error><Code>InvalidAction</Code><Message>${action}</Message></Error></Errors></Response>`,
          "text/xml",
        );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface MetricQuery {
  Id: string;
  MetricStat: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] } };
}

const PAGE = 5; // results per GetMetricData page, so every multi-resource request pages

function metricData(
  req: { MetricDataQueries: MetricQuery[]; StartTime: number; EndTime: number; NextToken?: string },
  metrics: Record<string, { values: number[]; ago: number[] }>,
  at: Date,
) {
  const start = req.NextToken ? Number(req.NextToken.replace("cw-", "")) : 0;
  const page = req.MetricDataQueries.slice(start, start + PAGE);
  const results = page.map((q) => {
    const key = `${q.MetricStat.Metric.MetricName}|${q.MetricStat.Metric.Dimensions[0]?.Value}`;
    const m = metrics[key] ?? { values: [], ago: [] };
    const points = m.values
      .map((v, i) => ({ v, t: Math.floor(at.getTime() / 1000) - m.ago[i]! }))
      .filter((p) => p.t >= req.StartTime && p.t <= req.EndTime)
      .sort((a, b) => b.t - a.t);
    return {
      Id: q.Id,
      Label: q.MetricStat.Metric.MetricName,
      Timestamps: points.map((p) => p.t),
      Values: points.map((p) => p.v),
      StatusCode: "Complete",
    };
  });
  const next = start + PAGE < req.MetricDataQueries.length ? { NextToken: `cw-${start + PAGE}` } : {};
  return { MetricDataResults: results, Messages: [], ...next };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      text += c;
    });
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}

export type { ServerResponse };

/**
 * A fake AWS for the tests of one file or suite: started before them with credentials in the
 * environment (as the standard chain reads them), stopped after, the environment put back.
 */
export function useFakeAws(options: Parameters<typeof startFakeAws>[0]): () => FakeAws {
  let server: FakeAws | undefined;
  const saved = { ...process.env };
  before(async () => {
    server = await startFakeAws(options);
    process.env.AWS_ACCESS_KEY_ID = "AKIDCOSTGUARDTEST";
    process.env.AWS_SECRET_ACCESS_KEY = "secret";
    process.env.AWS_EC2_METADATA_DISABLED = "true";
  });
  after(async () => {
    process.env = saved;
    await server?.close();
  });
  return () => server!;
}

/**
 * Credentials for the standard chain, in the environment as in CI or on a laptop, for the tests of
 * one file (put back after them); no session token or profile from the machine's own.
 */
export function useTestCredentials(): void {
  const saved = { ...process.env };
  before(() => {
    process.env.AWS_ACCESS_KEY_ID = "AKIDCOSTGUARDTEST";
    process.env.AWS_SECRET_ACCESS_KEY = "costguard/test/secret";
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  });
  after(() => {
    process.env = saved;
  });
}
