import { describe, expect, it } from 'vitest';
import { connectUrl, parseClientOptions, UsageError } from '../../../client/cli-options.js';

describe('parseClientOptions', () => {
  it('reads the flags, with the local stack as the default target', () => {
    expect(parseClientOptions(['--room', 'general', '--user', 'alice'], {})).toEqual({
      rooms: ['general'],
      user: 'alice',
      url: 'ws://127.0.0.1:3001',
      rest: 'http://127.0.0.1:3000',
      json: false,
      historyLimit: 20,
      reconnectBaseMs: 500,
      reconnectMaxMs: 30_000,
    });
  });

  it('takes several rooms, a token from the environment and --json', () => {
    const options = parseClientOptions(['--room', 'a,b, a', '--json', '--history', '0'], { SWITCHBOARD_TOKEN: 'jwt' });
    expect(options).toMatchObject({ rooms: ['a', 'b'], token: 'jwt', json: true, historyLimit: 0 });
  });

  it('returns undefined for --help', () => {
    expect(parseClientOptions(['--help'], {})).toBeUndefined();
  });

  it.each([
    [['--room', 'no spaces allowed']],
    [['--url', 'http://127.0.0.1:3001']],
    [['--rest', 'not a url']],
    [['--history', '-1']],
    [['--reconnect-base-ms', '0']],
    [['--bogus']],
    [['positional']],
  ])('refuses %j', (argv) => {
    expect(() => parseClientOptions(argv, {})).toThrow(UsageError);
  });
});

describe('connectUrl', () => {
  const base = parseClientOptions(['--user', 'alice', '--name', 'Alice A', '--url', 'wss://example.com/prod'], {});

  it('puts the demo identity and the rooms in the query string, keeping the stage path', () => {
    if (!base) throw new Error('no options');
    const url = new URL(connectUrl(base, ['general', 'random']));
    expect(url.origin + url.pathname).toBe('wss://example.com/prod');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      userId: 'alice',
      userName: 'Alice A',
      room: 'general,random',
    });
  });

  it('sends only the token when there is one', () => {
    if (!base) throw new Error('no options');
    const url = new URL(connectUrl({ ...base, token: 'abc.def.ghi' }, ['general']));
    expect(Object.fromEntries(url.searchParams)).toEqual({ token: 'abc.def.ghi', room: 'general' });
  });
});
