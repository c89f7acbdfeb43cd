/**
 * A small EC2 with state, for the tests of acting on AWS: instances, volumes and snapshots that the
 * EC2 query API reads and changes, answered in EC2's XML (as the recorded fixtures are, from the EC2
 * API reference). StopInstances stops at once (answering `stopping`, as EC2 does), a resize needs a
 * stopped instance, a volume in use cannot be deleted; every changing call is logged with its
 * parameters.
 */

export interface WorldInstance {
  id: string;
  type: string;
  state: "running" | "stopped" | "terminated";
  tags: Record<string, string>;
  launched: string;
}

export interface WorldVolume {
  id: string;
  size: number;
  volumeType: string;
  state: "available" | "in-use" | "deleted";
  attachedTo?: string;
  created: string;
  tags: Record<string, string>;
}

export interface WorldSnapshot {
  id: string;
  volumeId: string;
  tags: Record<string, string>;
}

export interface WorldDatabase {
  /** The DbiResourceId the scan names it by. */
  id: string;
  /** The DBInstanceIdentifier its API calls name it by. */
  name: string;
  dbClass: string;
  engine: string;
  state: "available" | "stopped";
  storageGb: number;
  created: string;
  tags: Record<string, string>;
}

export interface Ec2World {
  instances: Map<string, WorldInstance>;
  volumes: Map<string, WorldVolume>;
  snapshots: WorldSnapshot[];
  /** RDS, when the world models it (else the recorded fixtures answer): by DbiResourceId. */
  databases?: Map<string, WorldDatabase>;
  dbSnapshots: { id: string; database: string; tags: Record<string, string> }[];
  /** Every call that changes something: the action and its parameters (as sent). */
  changes: { action: string; params: Record<string, string> }[];
}

export function ec2World(
  instances: WorldInstance[],
  volumes: WorldVolume[],
  databases?: WorldDatabase[],
): Ec2World {
  return {
    instances: new Map(instances.map((i) => [i.id, { ...i, tags: { ...i.tags } }])),
    volumes: new Map(volumes.map((v) => [v.id, { ...v, tags: { ...v.tags } }])),
    snapshots: [],
    ...(databases ? { databases: new Map(databases.map((d) => [d.id, { ...d, tags: { ...d.tags } }])) } : {}),
    dbSnapshots: [],
    changes: [],
  };
}

const RDS_NS = 'xmlns="http://rds.amazonaws.com/doc/2014-10-31/"';

function databaseXml(d: WorldDatabase, owner: string): string {
  const tags = Object.entries(d.tags)
    .map(([k, v]) => `<Tag><Key>${esc(k)}</Key><Value>${esc(v)}</Value></Tag>`)
    .join("");
  return `<DBInstance><DBInstanceIdentifier>${d.name}</DBInstanceIdentifier><DBInstanceClass>${d.dbClass}</DBInstanceClass><Engine>${d.engine}</Engine><DBInstanceStatus>${d.state}</DBInstanceStatus><AllocatedStorage>${d.storageGb}</AllocatedStorage><InstanceCreateTime>${d.created}</InstanceCreateTime><MultiAZ>false</MultiAZ><StorageType>gp3</StorageType><DbiResourceId>${d.id}</DbiResourceId><DBInstanceArn>arn:aws:rds:us-east-1:${owner}:db:${d.name}</DBInstanceArn><TagList>${tags}</TagList></DBInstance>`;
}

const rdsOk = (action: string, inner: string): Ec2Answer => ({
  status: 200,
  body: `<${action}Response ${RDS_NS}>${inner === "" ? "" : `<${action}Result>${inner}</${action}Result>`}<ResponseMetadata><RequestId>req-world</RequestId></ResponseMetadata></${action}Response>`,
});

const rdsError = (status: number, code: string, message: string): Ec2Answer => ({
  status,
  body: `<ErrorResponse ${RDS_NS}><Error><Type>Sender</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>req-world</RequestId></ErrorResponse>`,
});

/** Answers an RDS call from the world's databases; undefined when the world does not model RDS. */
export function answerRds(
  world: Ec2World,
  action: string,
  form: URLSearchParams,
  owner: string,
): Ec2Answer | undefined {
  const databases = world.databases;
  if (!databases) return undefined;
  const params = Object.fromEntries([...form.entries()].filter(([k]) => k !== "Action" && k !== "Version"));
  const byName = (name: string | null) => [...databases.values()].find((d) => d.name === name);
  const notFound = (name: string | null) =>
    rdsError(404, "DBInstanceNotFound", `DBInstance ${name} not found.`);
  switch (action) {
    case "DescribeDBInstances": {
      const filtered = form.get("Filters.Filter.1.Name") === "dbi-resource-id";
      const wanted = form.get("Filters.Filter.1.Values.Value.1");
      const shown = [...databases.values()].filter((d) => !filtered || d.id === wanted);
      return rdsOk(action, `<DBInstances>${shown.map((d) => databaseXml(d, owner)).join("")}</DBInstances>`);
    }
    case "StopDBInstance":
    case "StartDBInstance": {
      world.changes.push({ action, params });
      const d = byName(form.get("DBInstanceIdentifier"));
      if (!d) return notFound(form.get("DBInstanceIdentifier"));
      const from = action === "StopDBInstance" ? "available" : "stopped";
      if (d.state !== from)
        return rdsError(400, "InvalidDBInstanceState", `Instance ${d.name} is not in ${from} state.`);
      d.state = action === "StopDBInstance" ? "stopped" : "available";
      return rdsOk(action, databaseXml(d, owner));
    }
    case "ModifyDBInstance": {
      world.changes.push({ action, params });
      const d = byName(form.get("DBInstanceIdentifier"));
      if (!d) return notFound(form.get("DBInstanceIdentifier"));
      if (d.state !== "available")
        return rdsError(400, "InvalidDBInstanceState", `Instance ${d.name} is not in available state.`);
      // Applied at once (ApplyImmediately), as the class change is once RDS has made it.
      if (form.get("ApplyImmediately") === "true") d.dbClass = form.get("DBInstanceClass") ?? d.dbClass;
      return rdsOk(action, databaseXml(d, owner));
    }
    case "AddTagsToResource": {
      world.changes.push({ action, params });
      const name = /:db:(.+)$/.exec(form.get("ResourceName") ?? "")?.[1] ?? null;
      const d = byName(name);
      if (!d) return notFound(name);
      for (let n = 1; form.has(`Tags.Tag.${n}.Key`); n++)
        d.tags[form.get(`Tags.Tag.${n}.Key`)!] = form.get(`Tags.Tag.${n}.Value`) ?? "";
      return rdsOk(action, "");
    }
    case "CreateDBSnapshot": {
      world.changes.push({ action, params });
      const d = byName(form.get("DBInstanceIdentifier"));
      if (!d) return notFound(form.get("DBInstanceIdentifier"));
      const id = form.get("DBSnapshotIdentifier") ?? "";
      if (world.dbSnapshots.some((s) => s.id === id))
        return rdsError(
          400,
          "DBSnapshotAlreadyExists",
          `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`,
        );
      const tags: Record<string, string> = {};
      for (let n = 1; form.has(`Tags.Tag.${n}.Key`); n++)
        tags[form.get(`Tags.Tag.${n}.Key`)!] = form.get(`Tags.Tag.${n}.Value`) ?? "";
      world.dbSnapshots.push({ id, database: d.name, tags });
      return rdsOk(
        action,
        `<DBSnapshot><DBSnapshotIdentifier>${id}</DBSnapshotIdentifier><DBInstanceIdentifier>${d.name}</DBInstanceIdentifier><Status>creating</Status><Engine>${d.engine}</Engine></DBSnapshot>`,
      );
    }
    case "DescribeDBSnapshots": {
      const id = form.get("DBSnapshotIdentifier");
      const shown = world.dbSnapshots.filter((s) => id === null || s.id === id);
      if (id !== null && shown.length === 0)
        return rdsError(404, "DBSnapshotNotFound", `DBSnapshot ${id} not found.`);
      return rdsOk(
        action,
        `<DBSnapshots>${shown.map((s) => `<DBSnapshot><DBSnapshotIdentifier>${s.id}</DBSnapshotIdentifier><DBInstanceIdentifier>${s.database}</DBInstanceIdentifier><Status>available</Status></DBSnapshot>`).join("")}</DBSnapshots>`,
      );
    }
    default:
      return undefined;
  }
}

const NS = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';
const CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const tagSet = (tags: Record<string, string>) =>
  `<tagSet>${Object.entries(tags)
    .map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`)
    .join("")}</tagSet>`;

const state = (name: string) => `<code>${CODES[name] ?? 0}</code><name>${name}</name>`;

function instanceXml(i: WorldInstance): string {
  return `<item><instanceId>${i.id}</instanceId><imageId>ami-0c55b159cbfafe1f0</imageId><instanceState>${state(i.state)}</instanceState><instanceType>${i.type}</instanceType><launchTime>${i.launched}</launchTime><placement><availabilityZone>us-east-1a</availabilityZone><groupName/><tenancy>default</tenancy></placement>${tagSet(i.tags)}</item>`;
}

function volumeXml(v: WorldVolume): string {
  const attachment = v.attachedTo
    ? `<item><volumeId>${v.id}</volumeId><instanceId>${v.attachedTo}</instanceId><device>/dev/xvda</device><status>attached</status><attachTime>${v.created}</attachTime><deleteOnTermination>false</deleteOnTermination></item>`
    : "";
  return `<item><volumeId>${v.id}</volumeId><size>${v.size}</size><snapshotId/><availabilityZone>us-east-1a</availabilityZone><status>${v.state}</status><createTime>${v.created}</createTime><attachmentSet>${attachment}</attachmentSet><volumeType>${v.volumeType}</volumeType><encrypted>true</encrypted>${tagSet(v.tags)}</item>`;
}

function snapshotXml(s: WorldSnapshot, owner: string): string {
  return `<item><snapshotId>${s.id}</snapshotId><volumeId>${s.volumeId}</volumeId><status>pending</status><startTime>2026-06-01T00:00:00.000Z</startTime><progress/><ownerId>${owner}</ownerId><volumeSize>8</volumeSize><description>costguard</description><encrypted>true</encrypted>${tagSet(s.tags)}</item>`;
}

/** The values of a numbered list parameter: `InstanceId.1`, `InstanceId.2`, ... */
function listed(form: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let n = 1; form.has(`${prefix}.${n}`); n++) out.push(form.get(`${prefix}.${n}`)!);
  return out;
}

/** Tags given as `PREFIX.N.Key` / `PREFIX.N.Value`. */
function tagsOf(form: URLSearchParams, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let n = 1; form.has(`${prefix}.${n}.Key`); n++)
    out[form.get(`${prefix}.${n}.Key`)!] = form.get(`${prefix}.${n}.Value`) ?? "";
  return out;
}

export interface Ec2Answer {
  status: number;
  body: string;
}

const error = (code: string, message: string): Ec2Answer => ({
  status: 400,
  body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>req-world</RequestID></Response>`,
});

const ok = (action: string, inner: string): Ec2Answer => ({
  status: 200,
  body: `<?xml version="1.0" encoding="UTF-8"?><${action}Response ${NS}><requestId>req-world</requestId>${inner}</${action}Response>`,
});

/** Answers an EC2 call from the world; undefined for an action it does not model. */
export function answerEc2(
  world: Ec2World,
  action: string,
  form: URLSearchParams,
  owner: string,
): Ec2Answer | undefined {
  const params = Object.fromEntries([...form.entries()].filter(([k]) => k !== "Action" && k !== "Version"));
  const change = () => world.changes.push({ action, params });
  const instance = (id: string) => {
    const i = world.instances.get(id);
    return i && i.state !== "terminated" ? i : undefined;
  };
  const stateChange = (ids: string[], to: WorldInstance["state"], answered: string) => {
    const items: string[] = [];
    for (const id of ids) {
      const i = world.instances.get(id);
      if (!i) return error("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
      const before = i.state;
      i.state = to;
      items.push(
        `<item><instanceId>${id}</instanceId><currentState>${state(answered)}</currentState><previousState>${state(before)}</previousState></item>`,
      );
    }
    return ok(action, `<instancesSet>${items.join("")}</instancesSet>`);
  };
  switch (action) {
    case "DescribeInstances": {
      const ids = listed(form, "InstanceId");
      for (const id of ids)
        if (!world.instances.has(id))
          return error("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
      const shown = [...world.instances.values()].filter((i) => ids.length === 0 || ids.includes(i.id));
      // As EC2 answers: no instances, no reservation (and so no owner).
      const reservation =
        shown.length === 0
          ? ""
          : `<item><reservationId>r-0world</reservationId><ownerId>${owner}</ownerId><groupSet/><instancesSet>${shown.map(instanceXml).join("")}</instancesSet></item>`;
      return ok(action, `<reservationSet>${reservation}</reservationSet>`);
    }
    case "DescribeVolumes": {
      const ids = listed(form, "VolumeId");
      for (const id of ids)
        if (!world.volumes.has(id) || world.volumes.get(id)!.state === "deleted")
          return error("InvalidVolume.NotFound", `The volume '${id}' does not exist.`);
      const shown = [...world.volumes.values()].filter(
        (v) => v.state !== "deleted" && (ids.length === 0 || ids.includes(v.id)),
      );
      return ok(action, `<volumeSet>${shown.map(volumeXml).join("")}</volumeSet>`);
    }
    case "DescribeSnapshots": {
      const wanted: [string, string][] = [];
      for (let n = 1; form.has(`Filter.${n}.Name`); n++)
        wanted.push([
          form.get(`Filter.${n}.Name`)!.replace(/^tag:/, ""),
          form.get(`Filter.${n}.Value.1`) ?? "",
        ]);
      const shown = world.snapshots.filter((s) => wanted.every(([k, v]) => s.tags[k] === v));
      return ok(action, `<snapshotSet>${shown.map((s) => snapshotXml(s, owner)).join("")}</snapshotSet>`);
    }
    case "StopInstances":
      change();
      return stateChange(listed(form, "InstanceId"), "stopped", "stopping");
    case "StartInstances":
      change();
      return stateChange(listed(form, "InstanceId"), "running", "pending");
    case "TerminateInstances":
      change();
      return stateChange(listed(form, "InstanceId"), "terminated", "shutting-down");
    case "ModifyInstanceAttribute": {
      change();
      const i = instance(form.get("InstanceId") ?? "");
      if (!i) return error("InvalidInstanceID.NotFound", "no such instance");
      if (i.state !== "stopped")
        return error("IncorrectInstanceState", `The instance '${i.id}' is not in the 'stopped' state.`);
      i.type = form.get("InstanceType.Value") ?? i.type;
      return ok(action, "<return>true</return>");
    }
    case "CreateTags": {
      change();
      const tags = tagsOf(form, "Tag");
      for (const id of listed(form, "ResourceId")) {
        const target = instance(id) ?? world.volumes.get(id);
        if (!target) return error("InvalidID", `The ID '${id}' is not valid`);
        Object.assign(target.tags, tags);
      }
      return ok(action, "<return>true</return>");
    }
    case "DeleteVolume": {
      change();
      const v = world.volumes.get(form.get("VolumeId") ?? "");
      if (!v || v.state === "deleted") return error("InvalidVolume.NotFound", "no such volume");
      if (v.state === "in-use") return error("VolumeInUse", `Volume ${v.id} is currently attached`);
      v.state = "deleted";
      return ok(action, "<return>true</return>");
    }
    case "CreateSnapshot": {
      change();
      const v = world.volumes.get(form.get("VolumeId") ?? "");
      if (!v || v.state === "deleted") return error("InvalidVolume.NotFound", "no such volume");
      const snap = {
        id: `snap-${String(world.snapshots.length + 1).padStart(17, "0")}`,
        volumeId: v.id,
        tags: tagsOf(form, "TagSpecification.1.Tag"),
      };
      world.snapshots.push(snap);
      return ok(action, snapshotXml(snap, owner).replace(/^<item>|<\/item>$/g, ""));
    }
    case "CreateSnapshots": {
      change();
      const id = form.get("InstanceSpecification.InstanceId") ?? "";
      if (!instance(id)) return error("InvalidInstanceID.NotFound", "no such instance");
      const made = [...world.volumes.values()]
        .filter((v) => v.attachedTo === id && v.state === "in-use")
        .map((v) => {
          const snap = {
            id: `snap-${String(world.snapshots.length + 1).padStart(17, "0")}`,
            volumeId: v.id,
            tags: tagsOf(form, "TagSpecification.1.Tag"),
          };
          world.snapshots.push(snap);
          return snap;
        });
      return ok(
        action,
        `<snapshotSet>${made.map((s) => `<item><snapshotId>${s.id}</snapshotId><volumeId>${s.volumeId}</volumeId><state>pending</state><startTime>2026-06-01T00:00:00.000Z</startTime><ownerId>${owner}</ownerId>${tagSet(s.tags)}</item>`).join("")}</snapshotSet>`,
      );
    }
    default:
      return undefined;
  }
}
