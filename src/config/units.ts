/** Durations and sizes as tenants.yaml writes them: `250ms`, `30s`, `5m`, `1h`; `512KiB`, `10MiB`. */

export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$';
export const SIZE_PATTERN = '^[0-9]+(B|KiB|MiB|GiB)$';

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Returns milliseconds, or undefined when the text is not a duration such as `30s`. */
export function parseDuration(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(text.trim());
  if (match === null) {
    return undefined;
  }
  return Math.round(Number(match[1]) * (DURATION_UNITS_MS[match[2] as string] as number));
}

/** Returns bytes, or undefined when the text is not a size such as `10MiB`. */
export function parseSize(text: string): number | undefined {
  const match = /^([0-9]+)(B|KiB|MiB|GiB)$/.exec(text.trim());
  if (match === null) {
    return undefined;
  }
  return Number(match[1]) * (SIZE_UNITS[match[2] as string] as number);
}
