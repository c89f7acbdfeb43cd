import type { ResourceRequest, ResourceSpecs } from "../../engine/types.js";
import { PlannedValues } from "./values.js";

/** The Terraform resource types the gate turns into requests. */
export const SUPPORTED_TYPES = [
  "aws_instance",
  "aws_launch_template",
  "aws_ebs_volume",
  "aws_db_instance",
  "google_compute_instance",
  "google_compute_disk",
  "azurerm_linux_virtual_machine",
  "azurerm_windows_virtual_machine",
  "azurerm_managed_disk",
] as const;
export type SupportedType = (typeof SUPPORTED_TYPES)[number];

export function isSupported(type: string): type is SupportedType {
  return (SUPPORTED_TYPES as readonly string[]).includes(type);
}

/** One request a resource change becomes (inline disks become their own, addressed below the resource). */
export interface MappedRequest {
  address: string;
  request: ResourceRequest;
}

export interface MapContext {
  address: string;
  /** Region from the provider configuration, if it states one. */
  providerRegion: string | undefined;
}

type Mapper = (v: PlannedValues, ctx: MapContext) => MappedRequest[];

/** Collects a request's specs while noting every attribute Terraform knows only after apply. */
class Draft {
  readonly specs: ResourceSpecs = {};
  readonly unknown: string[] = [];
  tags: Record<string, string> | undefined;
  region: string | undefined;

  constructor(
    readonly type: string,
    readonly provider: string,
    readonly address: string,
  ) {}

  string(field: string, v: PlannedValues, key: string): void {
    if (v.unknown(key)) this.unknown.push(`specs.${field}`);
    else {
      const s = v.string(key);
      if (s !== undefined) this.specs[field] = s;
    }
  }

  number(field: string, v: PlannedValues, key: string): void {
    if (v.unknown(key)) this.unknown.push(`specs.${field}`);
    else {
      const n = v.number(key);
      if (n !== undefined) this.specs[field] = n;
    }
  }

  boolean(field: string, v: PlannedValues, key: string): void {
    if (v.unknown(key)) this.unknown.push(`specs.${field}`);
    else {
      const b = v.boolean(key);
      if (b !== undefined) this.specs[field] = b;
    }
  }

  /**
   * Tags from the first of `keys` that is set (`tags_all` carries the provider's default_tags). When
   * a broader map is known only after apply and a narrower one is known, the narrower one's keys are
   * final (a resource's own tags win over the provider's defaults) and only keys it lacks are unknown
   * (`tags.*`); when none is known, all tags are.
   */
  tagsFrom(v: PlannedValues, keys: readonly string[]): void {
    let broaderUnknown = false;
    for (const key of keys) {
      if (v.unknown(key)) {
        broaderUnknown = true;
        continue;
      }
      const map = v.stringMap(key);
      if (!map) continue;
      for (const k of map.unknownKeys) this.unknown.push(`tags.${k}`);
      if (broaderUnknown) this.unknown.push("tags.*");
      this.tags = map.values;
      return;
    }
    if (broaderUnknown) this.unknown.push("tags");
  }

  build(): MappedRequest {
    // The address is the resource's identity in a plan (no cloud id before apply): an exception for
    // `--resource aws_instance.web` covers it.
    const request: ResourceRequest = {
      id: this.address,
      type: this.type,
      provider: this.provider,
      name: this.address,
    };
    if (this.region !== undefined) request.region = this.region;
    if (this.tags !== undefined) request.tags = this.tags;
    request.specs = this.specs;
    if (this.unknown.length > 0) request.unknown_fields = [...new Set(this.unknown)];
    return { address: this.address, request };
  }
}

const AWS_TAGS = ["tags_all", "tags"];
const zoneToRegion = (zone: string) => zone.replace(/-[a-z]$/, "").replace(/(\d)[a-z]$/, "$1");
const azureRegion = (location: string) => location.toLowerCase().replace(/\s+/g, "");

/** Inline EBS devices (root_block_device, ebs_block_device, launch template mappings) as volumes. */
function awsInlineVolumes(
  parent: Draft,
  v: PlannedValues,
  key: string,
  ctx: MapContext,
  volumeTags: Draft["tags"],
) {
  // The whole list known only after apply (a dynamic block over an unknown collection): its volumes
  // are one row of unknown cost, not nothing (the plan looked cheaper than it is, with no word why).
  const whole = v.unknown(key) && !Array.isArray(v.values[key]);
  const devices = whole ? [PlannedValues.of({}, true)] : v.blocks(key);
  return devices.map((dev, i) => {
    const d = new Draft("storage/volume", "aws", `${ctx.address}.${key}[${whole ? "*" : i}]`);
    d.region = parent.region;
    d.string("volume_sku", dev, "volume_type");
    d.number("size_gb", dev, "volume_size");
    d.number("iops", dev, "iops");
    d.number("throughput_mibps", dev, "throughput");
    d.tagsFrom(dev, ["tags_all", "tags"]);
    if (d.tags === undefined && volumeTags !== undefined) d.tags = volumeTags;
    return d.build();
  });
}

const MAPPERS: Record<SupportedType, Mapper> = {
  aws_instance(v, ctx) {
    const d = new Draft("compute/instance", "aws", ctx.address);
    d.region = ctx.providerRegion;
    d.string("instance_type", v, "instance_type");
    d.tagsFrom(v, AWS_TAGS);
    const volumeTags = v.stringMap("volume_tags")?.values;
    return [
      d.build(),
      ...awsInlineVolumes(d, v, "root_block_device", ctx, volumeTags),
      ...awsInlineVolumes(d, v, "ebs_block_device", ctx, volumeTags),
    ];
  },
  aws_launch_template(v, ctx) {
    const d = new Draft("compute/instance", "aws", ctx.address);
    d.region = ctx.providerRegion;
    d.string("instance_type", v, "instance_type");
    d.specs.launch_template = true;
    // Instances launched from the template carry the tags of its `instance` tag specification.
    const instanceSpec = v.blocks("tag_specifications").find((t) => t.string("resource_type") === "instance");
    if (instanceSpec) d.tagsFrom(instanceSpec, ["tags"]);
    else d.tagsFrom(v, AWS_TAGS);
    const volumeSpec = v.blocks("tag_specifications").find((t) => t.string("resource_type") === "volume");
    const volumeTags = volumeSpec?.stringMap("tags")?.values;
    const volumes = v.blocks("block_device_mappings").flatMap((m, i) =>
      m.blocks("ebs").map((ebs) => {
        const vol = new Draft("storage/volume", "aws", `${ctx.address}.block_device_mappings[${i}]`);
        vol.region = d.region;
        vol.string("volume_sku", ebs, "volume_type");
        vol.number("size_gb", ebs, "volume_size");
        vol.number("iops", ebs, "iops");
        vol.number("throughput_mibps", ebs, "throughput");
        if (volumeTags !== undefined) vol.tags = volumeTags;
        return vol.build();
      }),
    );
    return [d.build(), ...volumes];
  },
  aws_ebs_volume(v, ctx) {
    const d = new Draft("storage/volume", "aws", ctx.address);
    const az = v.string("availability_zone");
    d.region = az ? zoneToRegion(az) : ctx.providerRegion;
    d.string("volume_sku", v, "type");
    d.number("size_gb", v, "size");
    d.number("iops", v, "iops");
    d.number("throughput_mibps", v, "throughput");
    d.tagsFrom(v, AWS_TAGS);
    return [d.build()];
  },
  aws_db_instance(v, ctx) {
    const d = new Draft("database/instance", "aws", ctx.address);
    d.region = ctx.providerRegion;
    d.string("instance_type", v, "instance_class");
    d.string("engine", v, "engine");
    d.number("storage_gb", v, "allocated_storage");
    d.string("storage_type", v, "storage_type");
    d.number("iops", v, "iops");
    d.boolean("multi_az", v, "multi_az");
    d.tagsFrom(v, AWS_TAGS);
    return [d.build()];
  },
  google_compute_instance(v, ctx) {
    const d = new Draft("compute/instance", "gcp", ctx.address);
    const zone = v.string("zone");
    d.region = zone ? zoneToRegion(zone) : ctx.providerRegion;
    d.string("instance_type", v, "machine_type");
    d.tagsFrom(v, ["terraform_labels", "labels"]);
    const scheduling = v.blocks("scheduling")[0];
    if (
      scheduling &&
      (scheduling.boolean("preemptible") === true || scheduling.string("provisioning_model") === "SPOT")
    )
      d.specs.spot = true;
    const accelerators = v.blocks("guest_accelerator").reduce((n, g) => n + (g.number("count") ?? 0), 0);
    if (accelerators > 0) {
      // An attached GPU makes this a GPU machine whatever its machine type's own category.
      d.specs.accelerators = accelerators;
      d.specs.gpus = accelerators;
      d.specs.instance_family = "gpu";
    }
    const out = [d.build()];
    v.blocks("boot_disk").forEach((boot, i) => {
      const params = boot.blocks("initialize_params")[0];
      if (!params) return;
      const disk = new Draft("storage/volume", "gcp", `${ctx.address}.boot_disk[${i}]`);
      disk.region = d.region;
      disk.string("volume_sku", params, "type");
      disk.number("size_gb", params, "size");
      disk.tags = d.tags;
      out.push(disk.build());
    });
    return out;
  },
  google_compute_disk(v, ctx) {
    const d = new Draft("storage/volume", "gcp", ctx.address);
    const zone = v.string("zone");
    d.region = zone ? zoneToRegion(zone) : ctx.providerRegion;
    d.string("volume_sku", v, "type");
    d.number("size_gb", v, "size");
    d.number("iops", v, "provisioned_iops");
    d.tagsFrom(v, ["terraform_labels", "labels"]);
    return [d.build()];
  },
  azurerm_linux_virtual_machine: (v, ctx) => azureVm(v, ctx, "linux"),
  azurerm_windows_virtual_machine: (v, ctx) => azureVm(v, ctx, "windows"),
  azurerm_managed_disk(v, ctx) {
    const d = new Draft("storage/volume", "azure", ctx.address);
    const location = v.string("location");
    d.region = location ? azureRegion(location) : ctx.providerRegion;
    d.string("volume_sku", v, "storage_account_type");
    d.number("size_gb", v, "disk_size_gb");
    d.tagsFrom(v, ["tags"]);
    return [d.build()];
  },
};

function azureVm(v: PlannedValues, ctx: MapContext, os: "linux" | "windows"): MappedRequest[] {
  const d = new Draft("compute/instance", "azure", ctx.address);
  const location = v.string("location");
  d.region = location ? azureRegion(location) : ctx.providerRegion;
  d.string("instance_type", v, "size");
  d.specs.os = os;
  d.tagsFrom(v, ["tags"]);
  const out = [d.build()];
  v.blocks("os_disk").forEach((disk, i) => {
    const vol = new Draft("storage/volume", "azure", `${ctx.address}.os_disk[${i}]`);
    vol.region = d.region;
    vol.string("volume_sku", disk, "storage_account_type");
    vol.number("size_gb", disk, "disk_size_gb");
    vol.tags = d.tags;
    out.push(vol.build());
  });
  return out;
}

/** The requests one side (before or after) of a supported resource change becomes. */
export function mapResource(
  type: SupportedType,
  values: unknown,
  unknownMask: unknown,
  ctx: MapContext,
): MappedRequest[] {
  return MAPPERS[type](PlannedValues.of(values, unknownMask), ctx);
}
