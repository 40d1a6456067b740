/** Float sums of refills land a hair below whole numbers: this much short of a token still counts as one. */
const EPS = 1e-9;

/** A token bucket on the caller's clock (milliseconds): `burst` tokens, one more every `everyMs`. Pure. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly burst: number,
    private readonly everyMs: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.at) / this.everyMs);
      this.at = now;
    }
  }

  /** Takes a token when there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1 - EPS) return false;
    this.tokens = Math.max(0, this.tokens - 1);
    return true;
  }

  /** Milliseconds until a token is available (0 if one is). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 - EPS ? 0 : Math.ceil((1 - this.tokens) * this.everyMs - EPS);
  }

  /** Full again: nothing to remember. */
  idle(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst - EPS;
  }
}
