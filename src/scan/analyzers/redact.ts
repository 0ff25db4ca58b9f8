// The one way a secret is shown: enough to recognise which credential it is (to rotate
// it), never enough to use it. A finding keeps only this hint, never the matched text.

/** First two and last two characters around an ellipsis; secrets shorter than 8
 * characters would be half revealed that way, so they show only asterisks. */
export function redact(secret: string): string {
  if (secret.length < 8) return '****';
  return `${secret.slice(0, 2)}…${secret.slice(-2)}`;
}
