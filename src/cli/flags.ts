import { z } from 'zod';

// Numeric command-line flags, checked with the schema library: a value that is not a number in range stops the
// process with an error naming the flag (a bare Number() made `--resync-seconds abc` NaN, i.e. 1 ms timers).

const whole = (min: number, max: number) =>
  z
    .string()
    .regex(/^\s*\d+\s*$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

/** A TCP port to listen on (0: any free port). */
export const portFlag = whole(0, 65535);
/** A period in seconds (or milliseconds) that must not be zero. */
export const positiveFlag = whole(1, 31_536_000_000);
/** A duration that may be zero. */
export const nonNegativeFlag = whole(0, 31_536_000_000);

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The numeric flags of `flags` parsed by `shape`; throws one error naming every bad flag and its value. */
export function numericFlags<S extends Record<string, z.ZodType<number, string>>>(
  flags: object,
  shape: S,
): { [K in keyof S]: number } {
  const parsed = z.object(shape).safeParse(flags);
  if (parsed.success) return parsed.data as { [K in keyof S]: number };
  const given = flags as Record<string, unknown>;
  throw new Error(
    parsed.error.issues
      .map((i) => {
        const key = String(i.path[0]);
        return `--${kebab(key)} ${JSON.stringify(given[key])}: ${i.message}`;
      })
      .join('; '),
  );
}
