import { InputError } from "../errors.js";

/** EC2's limits on tags (CreateTags): at most 50 a resource, keys of 1–128 characters, values of up to 256. */
export const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

/**
 * Refuses a tag the cloud would refuse, as CreateTags refuses it (keys starting `aws:` are AWS's own);
 * `where` begins the message (`tag`, or the setting that names it).
 */
export function checkTag(key: string, value: string | null, where = "tag"): void {
  const length = (text: string) => [...text].length;
  if (length(key) > MAX_TAG_KEY)
    throw new InputError(
      `${where} key ${JSON.stringify(key.slice(0, 40))}... is over ${MAX_TAG_KEY} characters`,
    );
  if (key.toLowerCase().startsWith("aws:"))
    throw new InputError(`${where} key ${JSON.stringify(key)}: keys starting with aws: are reserved for AWS`);
  if (value !== null && length(value) > MAX_TAG_VALUE)
    throw new InputError(`${where} ${JSON.stringify(key)}: its value is over ${MAX_TAG_VALUE} characters`);
}
