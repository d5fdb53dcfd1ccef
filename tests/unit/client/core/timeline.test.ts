import { describe, expect, it } from 'vitest';
import { type ChatItem, mergeDelivery, Timeline } from '../../../../client/core/timeline.js';

const item = (id: string, timestamp: string, extra: Partial<ChatItem> = {}): ChatItem => ({
  id,
  timestamp,
  senderId: 'alice',
  senderName: 'Alice',
  text: `text ${id}`,
  mine: false,
  delivery: 'sent',
  ...extra,
});

describe('Timeline', () => {
  it('keeps one entry per messageId however often and in whatever order it arrives', () => {
    const timeline = new Timeline();
    expect(timeline.upsert(item('b', '2026-01-01T00:00:02.000Z'))).toBe('added');
    expect(timeline.upsert(item('a', '2026-01-01T00:00:01.000Z'))).toBe('added');
    expect(timeline.upsert(item('b', '2026-01-01T00:00:02.000Z'))).toBe('unchanged');
    expect(timeline.upsert(item('c', '2026-01-01T00:00:02.000Z'))).toBe('added');
    expect(timeline.list().map((each) => each.id)).toEqual(['a', 'b', 'c']);
    expect(timeline.size).toBe(3);
  });

  it('keeps unconfirmed messages last and moves them into place at the server time once acknowledged', () => {
    const timeline = new Timeline();
    timeline.upsert(item('mine', '2030-01-01T00:00:00.000Z', { mine: true, delivery: 'pending' }));
    timeline.upsert(item('old', '2026-01-01T00:00:01.000Z'));
    timeline.upsert(item('newer', '2026-01-01T00:00:05.000Z'));
    expect(timeline.list().map((each) => each.id)).toEqual(['old', 'newer', 'mine']);
    expect(timeline.newestConfirmed()?.id).toBe('newer');

    timeline.update('mine', { delivery: 'sent', timestamp: '2026-01-01T00:00:03.000Z' });
    expect(timeline.list().map((each) => each.id)).toEqual(['old', 'mine', 'newer']);
    expect(timeline.get('mine')?.timestamp).toBe('2026-01-01T00:00:03.000Z');
  });

  it('moves delivery status forward only', () => {
    const timeline = new Timeline();
    timeline.upsert(item('m', '2026-01-01T00:00:01.000Z', { mine: true, delivery: 'pending' }));
    timeline.update('m', { delivery: 'read' });
    timeline.update('m', { delivery: 'delivered' });
    timeline.upsert(item('m', '2026-01-01T00:00:01.000Z', { mine: true, delivery: 'sent' }));
    expect(timeline.get('m')?.delivery).toBe('read');
    // A late error frame cannot mark a confirmed message failed.
    expect(timeline.update('m', { delivery: 'failed' })).toBe(false);
    expect(mergeDelivery('failed', 'sent')).toBe('sent');
    expect(mergeDelivery('sent', 'pending')).toBe('sent');
  });

  it('keeps a deletion even if an older copy of the message arrives later', () => {
    const timeline = new Timeline();
    timeline.upsert(item('m', '2026-01-01T00:00:01.000Z'));
    expect(timeline.markDeleted('m')).toBe(true);
    timeline.upsert(item('m', '2026-01-01T00:00:01.000Z'));
    expect(timeline.get('m')).toMatchObject({ deleted: true, text: '' });
  });
});
