import { closest } from "../policy/suggest.js";

/**
 * ISO 4217 currency codes as this Node's ICU knows them (`Intl.supportedValuesOf`): every code in
 * use, some withdrawn ones (HRK) too. Undefined where the runtime cannot list them; then any three
 * capital letters pass.
 */
let known: ReadonlySet<string> | null | undefined;
function knownCurrencies(): ReadonlySet<string> | null {
  if (known === undefined) {
    const list = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
    known = typeof list === "function" ? new Set(list("currency")) : null;
  }
  return known;
}

/** The currencies a misspelling most likely meant, tried first: UDS is USD, not UZS. */
const COMMON = ["USD", "EUR", "GBP", "JPY", "CNY", "INR", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "BRL"];

/**
 * Why `code` is no ISO 4217 currency code (with the closest one that is, when one is near), or
 * undefined when it is one. `XYZ` or a misspelt `UDS` would otherwise be a currency no billing data
 * is in: a budget in it sums nothing, a cost limit in it compares nothing.
 */
export function currencyProblem(code: string): string | undefined {
  const codes = knownCurrencies();
  if (codes === null ? /^[A-Z]{3}$/.test(code) : codes.has(code)) return undefined;
  const near = codes === null ? undefined : closest(code.toUpperCase(), [...COMMON, ...codes]);
  return `\`${code}\` is not an ISO 4217 currency code${near !== undefined ? ` — did you mean \`${near}\`?` : ""}`;
}

const MINOR_UNITS = new Map<string, number>();

/**
 * The digits after the point a currency's amounts are shown with: 2 for USD or EUR, 0 for JPY or KRW,
 * 3 for BHD or KWD (ICU's, as `Intl.NumberFormat` formats the currency); 2 for a code it does not know.
 */
export function minorUnits(currency: string): number {
  let digits = MINOR_UNITS.get(currency);
  if (digits === undefined) {
    digits = 2;
    if (/^[A-Z]{3}$/.test(currency)) {
      try {
        digits =
          new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
            .maximumFractionDigits ?? 2;
      } catch {
        // Not a code ICU takes: cents.
      }
      MINOR_UNITS.set(currency, digits);
    }
  }
  return digits;
}
