// Keyboard shortcuts: single keys, ignored while typing in a field or with a modifier held.
// Each screen registers its own; "?" lists them (screens/shell.js).
import { useEffect } from "./html.js";

export const SHORTCUTS = [
  ["j", "shortcuts.next"],
  ["k", "shortcuts.previous"],
  ["x", "shortcuts.select"],
  ["/", "shortcuts.search"],
  ["r", "shortcuts.reply"],
  ["n", "shortcuts.note"],
  ["a", "shortcuts.assign"],
  ["c", "shortcuts.close"],
  ["u", "shortcuts.back"],
  ["?", "shortcuts.help"],
];

function typing(target) {
  if (!target || !target.closest) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

/** Calls `actions[key]()` for a shortcut key while the screen is shown. */
export function useShortcuts(actions) {
  useEffect(() => {
    function onKey(event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (typing(event.target)) return;
      const action = actions[event.key];
      if (action) {
        event.preventDefault();
        action();
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [actions]);
}

/** Moves the focus to the next (+1) or previous (-1) of `selector`'s elements. */
export function moveFocus(selector, step) {
  const items = [...document.querySelectorAll(selector)];
  if (!items.length) return;
  const at = items.indexOf(document.activeElement);
  const next = at < 0 ? (step > 0 ? 0 : items.length - 1) : at + step;
  const target = items[Math.max(0, Math.min(items.length - 1, next))];
  target.focus();
  target.scrollIntoView({ block: "nearest" });
}
