import { describe, expect, it } from 'vitest';
import { CONNECTING_GRACE_MS, closeConnection, dropGoneConnection } from '#core/use-cases/close-connection';
import { connection, fakeConnections, fakeEvents, fakeSubscriptions } from '../../../../helpers/fakes.js';

const sub = (topic: string, connectionId: string, userId: string) => ({
  topic,
  connectionId,
  userId,
  userName: userId,
  expiresAt: Math.floor(Date.now() / 1000) + 600,
});

function world() {
  const connections = fakeConnections([connection('c1', 'alice'), connection('c2', 'alice'), connection('c3', 'bob')]);
  const subscriptions = fakeSubscriptions([
    sub('room#general', 'c1', 'alice'),
    sub('user#alice', 'c1', 'alice'),
    sub('room#general', 'c2', 'alice'),
    sub('room#general', 'c3', 'bob'),
  ]);
  const events = fakeEvents();
  return { connections, subscriptions, events };
}

describe('closeConnection', () => {
  it('removes exactly that connection and its subscriptions', async () => {
    const deps = world();
    expect(await closeConnection('c1', deps)).toEqual({ removed: true });
    expect([...deps.connections.records.keys()].sort()).toEqual(['c2', 'c3']);
    expect(deps.subscriptions.items.map((s) => s.connectionId).sort()).toEqual(['c2', 'c3']);
  });

  it('announces left, but not offline, while the user has another live connection', async () => {
    const deps = world();
    await closeConnection('c1', deps);
    expect(deps.events.deliveries.map((d) => d.frame.event)).toEqual(['left']);
  });

  it('announces offline when the last connection goes', async () => {
    const deps = world();
    await closeConnection('c3', deps);
    expect(deps.events.deliveries.map((d) => [d.topic, d.frame.event])).toEqual([
      ['room#general', 'left'],
      ['room#general', 'offline'],
    ]);
  });

  it('is safe to run twice', async () => {
    const deps = world();
    await closeConnection('c3', deps);
    const again = await closeConnection('c3', deps);
    expect(again).toEqual({ removed: false });
    expect(deps.events.deliveries).toHaveLength(2);
  });
});

describe('dropGoneConnection', () => {
  it('keeps a connection that may still be inside its $connect', async () => {
    const deps = world();
    deps.connections.records.set('new', connection('new', 'carol', Date.now() - 1000));
    expect(await dropGoneConnection('new', deps)).toEqual({ removed: false });
    expect(deps.connections.records.has('new')).toBe(true);
  });

  it('removes one that answered 410 after the grace period', async () => {
    const deps = world();
    const now = Date.now();
    deps.connections.records.set('old', connection('old', 'carol', now - CONNECTING_GRACE_MS - 1));
    expect(await dropGoneConnection('old', deps, now)).toEqual({ removed: true });
  });

  it('cleans up subscriptions of a connection whose record is already gone', async () => {
    const deps = world();
    deps.subscriptions.items.push(sub('room#general', 'ghost', 'ghost'));
    await dropGoneConnection('ghost', deps);
    expect(deps.subscriptions.items.some((s) => s.connectionId === 'ghost')).toBe(false);
  });
});
