/** What a function's answer to one batch means for the event source mapping. */
export type BatchOutcome =
  | { kind: 'success' }
  /** Records before `failedIndex` succeeded; Lambda checkpoints there and retries the rest. */
  | { kind: 'partial'; failedIndex: number }
  | { kind: 'failure'; reason: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a `ReportBatchItemFailures` response the way Lambda does: no response, no list or an
 * empty list is a success; anything it cannot map to a record of the batch (an empty or missing
 * `itemIdentifier`, a misspelt key, a sequence number not in the batch, a list that isn't one)
 * fails the whole batch; otherwise the lowest failed record becomes the checkpoint.
 */
export function interpretBatchResponse(response: unknown, sequenceNumbers: readonly string[]): BatchOutcome {
  if (response === undefined || response === null) return { kind: 'success' };
  if (!isRecord(response)) return { kind: 'failure', reason: 'the response is not a JSON object' };
  const failures = response.batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };

  const positions = new Map(sequenceNumbers.map((sequenceNumber, index) => [sequenceNumber, index]));
  let failedIndex = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const identifier = isRecord(failure) ? failure.itemIdentifier : undefined;
    if (typeof identifier !== 'string' || identifier === '') {
      return { kind: 'failure', reason: 'a batch item failure has no itemIdentifier' };
    }
    const index = positions.get(identifier);
    if (index === undefined) return { kind: 'failure', reason: `itemIdentifier ${identifier} is not in the batch` };
    failedIndex = Math.min(failedIndex, index);
  }
  return { kind: 'partial', failedIndex };
}
