// Which lines two texts share, and which one has that the other has not (a longest common
// subsequence of lines): what the knowledge-base editor shows to compare two versions.

export const MAX_LINES = 3000; // beyond this many lines a side, no comparison is offered

/**
 * The lines of `before` and `after` in order, each `{kind, text}` with kind "same",
 * "removed" (only in `before`) or "added" (only in `after`); null when a side is too long.
 */
export function lineDiff(before, after) {
  const a = String(before).split("\n");
  const b = String(after).split("\n");
  if (a.length > MAX_LINES || b.length > MAX_LINES) return null;
  // lengths[i][j]: the longest common subsequence of a[i:] and b[j:]
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lengths[i][j] =
        a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  const lines = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      lines.push({ kind: "same", text: a[i] });
      i += 1;
      j += 1;
    } else if (lengths[i + 1][j] >= lengths[i][j + 1]) {
      lines.push({ kind: "removed", text: a[i] });
      i += 1;
    } else {
      lines.push({ kind: "added", text: b[j] });
      j += 1;
    }
  }
  while (i < a.length) lines.push({ kind: "removed", text: a[i++] });
  while (j < b.length) lines.push({ kind: "added", text: b[j++] });
  return lines;
}
