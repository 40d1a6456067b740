// A compact RFC 6902 JSON Patch from one JSON document to another, for the AdmissionReview response.
//
// A general diff (fast-json-patch's compare) rewrites an array element by element: wrapping a 3-element command
// in ~60 wrapper options gives ~60 `replace`/`add` ops per container, ~200 ops for a 3-container pod, which the
// webhook must build, serialise and base64-encode and the apiserver must parse and apply one by one. Here an array
// that only gained or lost a short contiguous run of elements (podfence's init container, volume, mount) gets one
// `add` or `remove` per element, an array of the same length is diffed element by element (containers), and any
// other changed array is replaced whole. Values in the ops are shared with `to`, not copied: serialise before changing it.

export type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An own property's value (never an inherited one such as `toString`). */
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

/** JSON Pointer escaping of one reference token (RFC 6901). */
export const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Deep equality of JSON values; object keys whose value is undefined count as absent (as in JSON.stringify). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (!isObject(a) || !isObject(b)) return false;
  let na = 0;
  for (const k of Object.keys(a)) {
    if (a[k] === undefined) continue;
    na++;
    if (!jsonEqual(a[k], own(b, k))) return false;
  }
  let nb = 0;
  for (const k of Object.keys(b)) if (b[k] !== undefined) nb++;
  return na === nb;
}

/** The ops that turn `from` into `to` (both JSON values: plain objects, arrays, strings, numbers, booleans, null). */
export function jsonPatch(from: unknown, to: unknown): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  diff(from, to, '', ops);
  return ops;
}

function diff(a: unknown, b: unknown, path: string, ops: JsonPatchOp[]): void {
  if (a === b) return;
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) {
      if (a[k] !== undefined && own(b, k) === undefined) {
        ops.push({ op: 'remove', path: `${path}/${escapePointer(k)}` });
      }
    }
    for (const k of Object.keys(b)) {
      const bv = b[k];
      if (bv === undefined) continue;
      const av = own(a, k);
      const p = `${path}/${escapePointer(k)}`;
      if (av === undefined) ops.push({ op: 'add', path: p, value: bv });
      else diff(av, bv, p, ops);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    diffArray(a, b, path, ops);
    return;
  }
  if (!jsonEqual(a, b)) ops.push({ op: 'replace', path, value: b });
}

function diffArray(a: unknown[], b: unknown[], path: string, ops: JsonPatchOp[]): void {
  if (a.length === b.length) {
    for (let i = 0; i < a.length; i++) diff(a[i], b[i], `${path}/${i}`, ops);
    return;
  }
  // Common prefix and suffix: if they cover the shorter array, the rest is one contiguous insertion or removal.
  const short = Math.min(a.length, b.length);
  let pre = 0;
  while (pre < short && jsonEqual(a[pre], b[pre])) pre++;
  let suf = 0;
  while (suf < short - pre && jsonEqual(a[a.length - 1 - suf], b[b.length - 1 - suf])) suf++;
  // ... and only when that run is short next to the array: a wrapper prefixed to a command is one `replace`.
  if (pre + suf === short && 2 * (Math.max(a.length, b.length) - short) <= Math.max(a.length, b.length)) {
    if (b.length > a.length) {
      for (let i = pre; i < b.length - suf; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: b[i] });
    } else {
      // remove from the end of the run backwards, so earlier indices stay valid
      for (let i = a.length - suf - 1; i >= pre; i--) ops.push({ op: 'remove', path: `${path}/${i}` });
    }
    return;
  }
  ops.push({ op: 'replace', path, value: b });
}
