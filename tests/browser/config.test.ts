import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../front/src/config.js';

describe('parseConfig', () => {
  it('accepts the demo configuration and trims trailing slashes', () => {
    expect(
      parseConfig({ webSocketUrl: 'ws://127.0.0.1:3001/', restUrl: 'http://127.0.0.1:3000/', authMode: 'none' }),
    ).toEqual({
      webSocketUrl: 'ws://127.0.0.1:3001',
      restUrl: 'http://127.0.0.1:3000',
      authMode: 'none',
    });
  });

  it('requires the Cognito settings in cognito mode', () => {
    const base = { webSocketUrl: 'wss://x.example/prod', restUrl: 'https://y.example', authMode: 'cognito' };
    expect(() => parseConfig(base)).toThrow(ConfigError);
    expect(
      parseConfig({ ...base, cognito: { userPoolId: 'us-east-1_abc', clientId: 'client', region: 'us-east-1' } }),
    ).toMatchObject({
      authMode: 'cognito',
      cognito: { userPoolId: 'us-east-1_abc', clientId: 'client', region: 'us-east-1' },
    });
  });

  it('refuses wrong schemes and unknown auth modes', () => {
    expect(() => parseConfig({ webSocketUrl: 'http://x', restUrl: 'http://y' })).toThrow(/ws:\/\//);
    expect(() => parseConfig({ webSocketUrl: 'ws://x', restUrl: 'ftp://y' })).toThrow(/http/);
    expect(() => parseConfig({ webSocketUrl: 'ws://x', restUrl: 'http://y', authMode: 'basic' })).toThrow(/authMode/);
    expect(() => parseConfig('nope')).toThrow(ConfigError);
  });
});
