import { byId } from './dom.js';

/** "Alice is typing…", "Alice and Bob are typing…", "Alice, Bob and 2 others are typing…". */
export function typingText(names: readonly string[]): string {
  const [first, second] = names;
  if (first === undefined) return '';
  if (second === undefined) return `${first} is typing…`;
  if (names.length === 2) return `${first} and ${second} are typing…`;
  const others = names.length - 2;
  return `${first}, ${second} and ${others} other${others === 1 ? '' : 's'} are typing…`;
}

/** The line under the messages; a polite live region, so screen readers hear it without losing focus. */
export function renderTyping(names: readonly string[]): void {
  const line = byId('typing');
  const text = typingText(names);
  if (line.textContent !== text) line.textContent = text;
}
