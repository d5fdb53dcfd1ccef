/** True when the text has a lone UTF-16 surrogate (it cannot be encoded as UTF-8). */
export function hasLoneSurrogate(text: string): boolean {
  // In unicode mode a valid pair is one code point, so only unpaired halves match \p{Cs}.
  return /\p{Cs}/u.test(text);
}

/** True when the text has C0 control characters or DEL, which have no place in a name. */
export function hasControlCharacters(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
