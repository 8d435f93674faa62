/**
 * A conversation's title, for listings: the first words of its first
 * message, whitespace folded, cut at a word (or, for one long word, at a
 * character: never inside a surrogate pair).
 */
const TITLE_WORDS = 8;
const TITLE_CHARACTERS = 80;

export function titleOf(text: string): string {
  const words = text.trim().split(/\s+/u).slice(0, TITLE_WORDS);
  let title = '';
  for (const word of words) {
    const next = title ? `${title} ${word}` : word;
    if ([...next].length > TITLE_CHARACTERS) return title || [...word].slice(0, TITLE_CHARACTERS).join('');
    title = next;
  }
  return title;
}
