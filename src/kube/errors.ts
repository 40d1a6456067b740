/** HTTP status of a client-node `ApiException` (or of a watch error), if any. */
export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  const code = e?.code ?? e?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown) => statusCode(err) === 404;
export const isConflict = (err: unknown) => statusCode(err) === 409;
/** A failed JSON-patch `test` op comes back as 422 (Invalid) on some paths and 409 on others. */
export const isPreconditionFailure = (err: unknown) => [409, 422].includes(statusCode(err) ?? 0);

/** First line of an ApiException's message (its full text includes headers), else the error text. */
export function shortError(err: unknown): string {
  const e = err as { body?: unknown; message?: string };
  if (e?.body && typeof e.body === 'object' && 'message' in (e.body as object)) {
    return `${statusCode(err) ?? ''} ${(e.body as { message: string }).message}`.trim();
  }
  if (typeof e?.body === 'string') {
    try {
      const parsed = JSON.parse(e.body) as { message?: string };
      if (parsed.message) return `${statusCode(err) ?? ''} ${parsed.message}`.trim();
    } catch {
      // not JSON
    }
  }
  return (e?.message ?? String(err)).split('\n')[0] ?? String(err);
}
