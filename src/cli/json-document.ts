import { written } from "./written.js";

/** Text gathered before each write: big enough that waiting for the reader is rare, small enough to stay flat. */
const CHUNK = 64 * 1024;

/**
 * Writes `doc` exactly as `JSON.stringify(doc, null, 2)` and a line feed would, but its arrays element
 * by element, each chunk taken in by the reader before the next is made: a remediation plan of a few
 * hundred thousand tasks is more text than one JavaScript string may hold, and would otherwise sit in
 * memory whole.
 */
export async function writeJsonDocument(
  out: NodeJS.WritableStream,
  doc: Record<string, unknown>,
): Promise<void> {
  const entries = Object.entries(doc).filter(([, v]) => v !== undefined && typeof v !== "function");
  let text = "{";
  const flush = async (force: boolean) => {
    if (text.length >= CHUNK || (force && text.length > 0)) {
      const chunk = text;
      text = "";
      await written(out, chunk);
    }
  };
  if (entries.length === 0) text += "}";
  for (let k = 0; k < entries.length; k++) {
    const [key, value] = entries[k]!;
    text += `\n  ${JSON.stringify(key)}: `;
    if (Array.isArray(value) && value.length > 0) {
      text += "[";
      for (let i = 0; i < value.length; i++) {
        // An element JSON cannot hold (undefined, a function) is null, as JSON.stringify makes it.
        const element = JSON.stringify(value[i], null, 2) ?? "null";
        text += `${i === 0 ? "" : ","}\n    ${element.replaceAll("\n", "\n    ")}`;
        await flush(false);
      }
      text += "\n  ]";
    } else {
      text += JSON.stringify(value, null, 2).replaceAll("\n", "\n  ");
    }
    text += k === entries.length - 1 ? "\n}" : ",";
  }
  text += "\n";
  await flush(true);
}
