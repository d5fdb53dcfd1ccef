import { describe, expect, it } from 'vitest';
import { interpretBatchResponse } from '../../../../local/streams/batch-response.js';

const batch = ['100', '200', '300'];

describe('interpretBatchResponse', () => {
  it.each([
    ['no response', undefined],
    ['a null response', null],
    ['an empty response', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('treats %s as a complete success', (_label, response) => {
    expect(interpretBatchResponse(response, batch)).toEqual({ kind: 'success' });
  });

  it('checkpoints before the lowest reported record, whatever the order of the list', () => {
    const response = { batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '200' }] };
    expect(interpretBatchResponse(response, batch)).toEqual({ kind: 'partial', failedIndex: 1 });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a misspelt key', { batchItemFailures: [{ itemidentifier: '200' }] }],
    ['a sequence number from another batch', { batchItemFailures: [{ itemIdentifier: '999' }] }],
    ['a list that is not one', { batchItemFailures: '200' }],
    ['a response that is not an object', 'OK'],
    ['an array response', [{ itemIdentifier: '200' }]],
  ])('treats %s as a complete failure', (_label, response) => {
    expect(interpretBatchResponse(response, batch).kind).toBe('failure');
  });
});
