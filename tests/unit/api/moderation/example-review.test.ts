import { describe, expect, it } from 'vitest';
import { createExampleReview, parseWordList } from '#api/moderation/example-review';
import type { ReviewRequest } from '#core/domain/moderation';

const request = (Content: string): ReviewRequest => ({
  Content,
  MessageId: 'm-1',
  Action: 'send',
  Kind: 'room',
  Room: 'general',
  Sender: { UserId: 'alice', UserName: 'Alice' },
});

describe('parseWordList', () => {
  it('trims, lower-cases and drops empty entries and repeats', () => {
    expect(parseWordList(' Spam, ,scam,SPAM ,')).toEqual(['spam', 'scam']);
    expect(parseWordList('')).toEqual([]);
  });
});

describe('the example moderation hook', () => {
  const deny = createExampleReview({ blockedWords: ['spam', 'c++'], blockedWordsAction: 'deny', maxLinks: 2 });
  const mask = createExampleReview({ blockedWords: ['spam', 'darn it'], blockedWordsAction: 'mask', maxLinks: 2 });

  it('allows a clean message without new content', () => {
    expect(deny(request('hello there'))).toEqual({ ReviewResult: 'ALLOW' });
  });

  it('refuses a blocked word whatever its case, with a reason that does not repeat it', () => {
    const answer = deny(request('this is SPAM!'));
    expect(answer.ReviewResult).toBe('DENY');
    expect(answer.Attributes?.Reason).toMatch(/does not allow/);
    expect(answer.Attributes?.Reason).not.toMatch(/spam/i);
  });

  it('matches whole words only, in any script, and escapes regex characters in the list', () => {
    expect(deny(request('spammer and antispam')).ReviewResult).toBe('ALLOW');
    expect(deny(request('I write c++ daily')).ReviewResult).toBe('DENY');
    expect(deny(request('I write c daily')).ReviewResult).toBe('ALLOW');
    expect(deny(request('éspam')).ReviewResult).toBe('ALLOW');
  });

  it('masks blocked words (phrases too) with one star per character in mask mode', () => {
    expect(mask(request('Spam and more spam, darn it'))).toEqual({
      ReviewResult: 'ALLOW',
      Content: '**** and more ****, *******',
    });
    expect(mask(request('nothing to hide'))).toEqual({ ReviewResult: 'ALLOW' });
  });

  it('refuses more links than the limit, counting http(s) URLs and bare www. hosts', () => {
    expect(deny(request('see https://a.example and www.b.example')).ReviewResult).toBe('ALLOW');
    const answer = deny(request('https://a.example http://b.example www.c.example'));
    expect(answer).toEqual({
      ReviewResult: 'DENY',
      Attributes: { Reason: 'too many links (3); at most 2 per message' },
    });
  });

  it('checks links before words, so a masked message cannot carry a link flood', () => {
    expect(mask(request('spam https://a https://b https://c')).ReviewResult).toBe('DENY');
  });

  it('allows everything but the link limit when the list is empty', () => {
    const none = createExampleReview({ blockedWords: [], blockedWordsAction: 'deny', maxLinks: 0 });
    expect(none(request('spam'))).toEqual({ ReviewResult: 'ALLOW' });
    expect(none(request('www.x.example')).ReviewResult).toBe('DENY');
  });
});
