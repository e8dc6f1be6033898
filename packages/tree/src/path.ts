/** One step into a pytree: an object key or an array index. */
export type PathEntry = string | number;
export type Path = readonly PathEntry[];

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Formats a path the way a user would write it in code: `layers[1].w`, with an optional root
 * name (`params.layers[1].w`). Keys that are not identifiers use brackets: `["my key"]`.
 */
export function formatPath(path: Path, root = ''): string {
  let s = root;
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (IDENT.test(p)) s += s === '' ? p : `.${p}`;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s === '' ? '<root>' : s;
}
