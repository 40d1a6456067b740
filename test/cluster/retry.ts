// Read-modify-write against a live apiserver races with the controllers that also write the object (scheduler,
// podfence's controller): a 409 Conflict means "read again and retry", as a controller would.

/** client-node's ApiException carries the HTTP status in `code`. */
const isConflict = (err: unknown) => (err as { code?: unknown } | undefined)?.code === 409;

/** Runs `attempt` (which must re-read the object each time) until it does not end in 409 Conflict. */
export async function retryOnConflict<T>(attempt: () => Promise<T>, tries = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isConflict(err) || i >= tries) throw err;
    }
  }
}
