/** Foreground colours that read on both dark and light terminals (no black, white or grey). */
const SENDER_PALETTE = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96] as const;

/**
 * Colour only for a terminal, and never when NO_COLOR is set to something (no-color.org), so
 * piped output and logs stay plain text.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

/** FNV-1a: a cheap, stable hash, so a sender keeps one colour across runs and machines. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193) >>> 0;
  }
  return value;
}

/** The SGR colour code for a sender, the same every time for the same id. */
export function senderColorCode(senderId: string): number {
  return SENDER_PALETTE[hash(senderId) % SENDER_PALETTE.length] ?? 36;
}

export interface Painter {
  sender(senderId: string, text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  error(text: string): string;
  accent(text: string): string;
}

const sgr = (codes: string, text: string) => `\x1b[${codes}m${text}\x1b[0m`;

/** Styles text when `enabled`; otherwise returns it untouched. */
export function painter(enabled: boolean): Painter {
  if (!enabled) {
    const plain = (text: string) => text;
    return { sender: (_id, text) => text, dim: plain, bold: plain, error: plain, accent: plain };
  }
  return {
    sender: (senderId, text) => sgr(`1;${senderColorCode(senderId)}`, text),
    dim: (text) => sgr('2', text),
    bold: (text) => sgr('1', text),
    error: (text) => sgr('1;31', text),
    accent: (text) => sgr('35', text),
  };
}

const isControl = (code: number) => (code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);

/**
 * Other people's text must not drive the terminal: control characters (ANSI escapes included)
 * are shown as \ufffd and line breaks continue on an indented line.
 */
export function sanitize(text: string): string {
  let shown = '';
  for (const char of text.split('\r\n').join('\n')) {
    if (char === '\n') shown += '\n    ';
    else shown += isControl(char.codePointAt(0) ?? 0) ? '\ufffd' : char;
  }
  return shown;
}
