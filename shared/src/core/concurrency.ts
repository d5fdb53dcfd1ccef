/**
 * Runs `task` for every item, at most `limit` at a time, starting them in item order. A failing
 * task rejects the whole run (the others already started still finish in the background).
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Waits for every task, then rejects with the first failure, if any. Unlike Promise.all, nothing is
 * still running when it rejects: a Lambda environment freezes once its handler returns, and a
 * fan-out cut off there is only repaired by the sender's retry.
 */
export async function allOrFirstError(tasks: readonly (Promise<unknown> | undefined)[]): Promise<void> {
  const outcomes = await Promise.allSettled(tasks);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}
