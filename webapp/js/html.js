// The UI library, from the vendored modules (webapp/vendor, docs/decisions/0022).
export { html, render } from "../vendor/htm-preact.mjs";
export {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "../vendor/preact-hooks.mjs";
