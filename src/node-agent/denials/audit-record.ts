/**
 * One line of audit-tap's output (`type=<n> audit(<sec>.<ms>:<serial>): <fields>`) as a record. Pure.
 *
 * Field values come in three spellings: `key=value`, `key="value"` (a string the kernel found safe to print) and
 * `key=<hex>` for an untrusted string holding a space, quote or control character (audit_log_untrustedstring):
 * those keys are decoded when their value is all hex. A malformed line gives undefined, never an exception.
 */
export interface AuditRecord {
  type: number;
  /** `<sec>.<ms>:<serial>`: the records of one audit event share it. */
  event: string;
  /** Seconds since the epoch (with milliseconds). */
  time: number;
  fields: Record<string, string>;
}

export const AUDIT = {
  SYSCALL: 1300,
  EOE: 1320,
  PROCTITLE: 1327,
  SECCOMP: 1326,
  LANDLOCK_ACCESS: 1423,
  LANDLOCK_DOMAIN: 1424,
} as const;

/** Keys the kernel logs with audit_log_untrustedstring (hex when they hold anything unusual). */
const UNTRUSTED = new Set(['path', 'name', 'comm', 'exe', 'ocomm', 'proctitle', 'cwd']);

const HEADER = /^type=(\d+) audit\((\d+(?:\.\d+)?):(\d+)\): ?(.*)$/;

export function parseAuditLine(line: string): AuditRecord | undefined {
  const m = HEADER.exec(line.trimEnd());
  if (!m) return undefined;
  return { type: Number(m[1]), event: `${m[2]}:${m[3]}`, time: Number(m[2]), fields: parseFields(m[4]!) };
}

export function parseFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = text.slice(i, eq);
    let value: string;
    if (text[eq + 1] === '"') {
      const close = text.indexOf('"', eq + 2);
      const end = close < 0 ? text.length : close;
      value = text.slice(eq + 2, end);
      i = end + 1;
    } else {
      const sp = text.indexOf(' ', eq + 1);
      const end = sp < 0 ? text.length : sp;
      value = text.slice(eq + 1, end);
      if (UNTRUSTED.has(key)) value = decodeHex(value) ?? value;
      i = end;
    }
    // A key with a space in it is not a field (garbage in the middle): skip it.
    if (key && !key.includes(' ')) fields[key] = value;
  }
  return fields;
}

function decodeHex(v: string): string | undefined {
  if (v.length < 2 || v.length % 2 !== 0 || !/^[0-9A-F]+$/.test(v)) return undefined;
  // NULs separate proctitle's argv: show them as spaces.
  return Buffer.from(v, 'hex').toString('utf8').replace(/\0/g, ' ').trimEnd();
}
