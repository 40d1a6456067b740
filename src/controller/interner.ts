/**
 * One shared copy of each equal string. Every node's report lists the same profile names, hashes and file names:
 * parsed from JSON, 1,000 reports x 100 profiles are 300,000 separate strings (~12 MiB), interned ~300. Bounded:
 * past `max` distinct strings the table starts over (old copies stay valid, only sharing is lost), so profile
 * versions that come and go cannot grow it for ever.
 */
export class Interner {
  private table = new Map<string, string>();

  constructor(private readonly max = 20_000) {}

  get(s: string): string {
    const known = this.table.get(s);
    if (known !== undefined) return known;
    if (this.table.size >= this.max) this.table = new Map();
    this.table.set(s, s);
    return s;
  }

  get size(): number {
    return this.table.size;
  }
}
