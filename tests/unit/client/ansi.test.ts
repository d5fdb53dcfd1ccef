import { describe, expect, it } from 'vitest';
import { colorEnabled, painter, sanitize, senderColorCode } from '../../../client/ansi.js';

describe('colorEnabled', () => {
  it('colours a terminal unless NO_COLOR is set to something', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });

  it('never colours a pipe or a file', () => {
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
  });
});

describe('senderColorCode', () => {
  it('gives a sender the same colour every time, and not everyone the same one', () => {
    expect(senderColorCode('alice')).toBe(senderColorCode('alice'));
    const codes = new Set(['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map(senderColorCode));
    expect(codes.size).toBeGreaterThan(1);
  });
});

describe('painter', () => {
  it('wraps text in SGR codes when enabled and leaves it alone otherwise', () => {
    expect(painter(true).sender('alice', 'alice')).toBe(`\x1b[1;${senderColorCode('alice')}malice\x1b[0m`);
    expect(painter(false).sender('alice', 'alice')).toBe('alice');
    expect(painter(false).error('oops')).toBe('oops');
  });
});

describe('sanitize', () => {
  it("neutralises escape sequences and control characters in other people's text", () => {
    expect(sanitize('\x1b[2Jgotcha\x07')).toBe('\ufffd[2Jgotcha\ufffd');
    expect(sanitize('tab\there\u009b')).toBe('tab\ufffdhere\ufffd');
  });

  it('keeps line breaks, indenting the continuation', () => {
    expect(sanitize('one\r\ntwo\nthree')).toBe('one\n    two\n    three');
  });

  it('keeps ordinary text, emoji included', () => {
    expect(sanitize('héllo 👋')).toBe('héllo 👋');
  });
});
