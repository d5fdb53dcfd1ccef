import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ConnectionState, ReconnectingSocket } from '#client-core/reconnecting-socket';
import { FakeWebSocket } from '../../../helpers/fake-websocket.js';

/** Lets the socket's awaited url() and callbacks run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

function harness(overrides: Partial<ConstructorParameters<typeof ReconnectingSocket>[0]> = {}) {
  const states: ConnectionState[] = [];
  const messages: string[] = [];
  const opens: boolean[] = [];
  let rooms = 'a';
  const socket = new ReconnectingSocket({
    WebSocket: FakeWebSocket,
    url: () => `ws://test/?room=${rooms}`,
    onMessage: (text) => messages.push(text),
    onState: (state) => states.push(state),
    onOpen: (reconnect) => opens.push(reconnect),
    backoff: { baseMs: 1_000, maxMs: 8_000 },
    random: () => 1,
    ...overrides,
  });
  return {
    socket,
    states,
    messages,
    opens,
    setRooms: (value: string) => {
      rooms = value;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ReconnectingSocket', () => {
  it('connects, passes text frames on and says whether an open is a reconnect', async () => {
    const h = harness();
    h.socket.start();
    await settle();
    expect(h.states.at(-1)).toEqual({ state: 'connecting', attempt: 0 });
    FakeWebSocket.latest.open();
    FakeWebSocket.latest.receive({ type: 'welcome' });
    expect(h.opens).toEqual([false]);
    expect(h.messages).toEqual(['{"type":"welcome"}']);
    expect(h.socket.send({ action: 'ping' })).toBe(true);
    expect(FakeWebSocket.latest.frames()).toEqual([{ action: 'ping' }]);
  });

  it('after a drop, waits with growing backoff, builds a fresh url and reconnects', async () => {
    const h = harness();
    h.socket.start();
    await settle();
    FakeWebSocket.latest.open();
    h.setRooms('a,b');
    FakeWebSocket.latest.serverClose(1001, 'going away');
    await settle();
    expect(h.states.at(-1)).toEqual({ state: 'waiting', attempt: 1, delayMs: 1_000, code: 1001, reason: 'going away' });
    expect(h.socket.send({ action: 'ping' })).toBe(false);

    // The attempt after a failed one waits twice as long.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeWebSocket.all).toHaveLength(2);
    expect(FakeWebSocket.latest.url).toBe('ws://test/?room=a,b');
    FakeWebSocket.latest.serverClose(1006);
    await settle();
    expect(h.states.at(-1)).toMatchObject({ state: 'waiting', attempt: 2, delayMs: 2_000 });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(FakeWebSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    FakeWebSocket.latest.open();
    expect(h.opens).toEqual([false, true]);

    // A frame proves the connection works: the next drop starts the backoff over.
    FakeWebSocket.latest.receive({ type: 'pong' });
    FakeWebSocket.latest.serverClose(1006);
    await settle();
    expect(h.states.at(-1)).toMatchObject({ state: 'waiting', delayMs: 1_000 });
  });

  it('asks what to do after an attempt that never opened, and stops when told to', async () => {
    const answers: Array<'retry' | 'stop'> = ['retry', 'stop'];
    const attempts: number[] = [];
    const h = harness({
      onFailedAttempt: (attempt) => {
        attempts.push(attempt);
        return answers.shift();
      },
    });
    h.socket.start();
    await settle();
    FakeWebSocket.latest.serverClose(1006);
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    FakeWebSocket.latest.serverClose(1006);
    await settle();
    expect(attempts).toEqual([0, 1]);
    expect(h.states.at(-1)).toEqual({ state: 'stopped' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.all).toHaveLength(2);
  });

  it('pings on a heartbeat and recycles a socket whose ping goes unanswered', async () => {
    const h = harness({ heartbeatMs: 60_000, pongTimeoutMs: 5_000 });
    h.socket.start();
    await settle();
    const first = FakeWebSocket.latest;
    first.open();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(first.frames()).toEqual([{ action: 'ping' }]);
    first.receive({ type: 'pong' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(first.closedWith).toBeUndefined();

    await vi.advanceTimersByTimeAsync(55_000);
    expect(first.frames()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(first.closedWith).toEqual({ code: 4000, reason: 'no pong' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeWebSocket.all).toHaveLength(2);
  });

  it('does not burn its backoff while the network is down, and reconnects when it returns', async () => {
    let up = false;
    const h = harness({ isNetworkUp: () => up });
    h.socket.start();
    await settle();
    expect(h.states).toEqual([{ state: 'offline' }]);
    expect(FakeWebSocket.all).toHaveLength(0);
    up = true;
    h.socket.networkChanged(true);
    await settle();
    expect(FakeWebSocket.all).toHaveLength(1);
  });

  it('stops for good: closes normally and never reconnects', async () => {
    const h = harness();
    h.socket.start();
    await settle();
    const socket = FakeWebSocket.latest;
    socket.open();
    await h.socket.stop('signed out');
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'signed out' });
    expect(h.states.at(-1)).toEqual({ state: 'stopped' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.all).toHaveLength(1);
  });
});
