/**
 * Where @lopt/tasks looks for dataset files, in order:
 *   1. an explicit `path` option (the directory that holds the files),
 *   2. `$LOPT_DATA_DIR/<dataset>`,
 *   3. the user cache, `$XDG_CACHE_HOME/lopt/<dataset>`, or `~/.cache/lopt/<dataset>` when
 *      XDG_CACHE_HOME is unset or not absolute (on every OS).
 * Downloads go to the explicit path if given, else to 2 if LOPT_DATA_DIR is set, else to 3.
 */
import { env, nodeOs, nodePath } from './node.js';

export interface SearchLocation {
  /** The directory, or undefined where the source is not configured (LOPT_DATA_DIR unset). */
  dir: string | undefined;
  /** How the directory was chosen, for messages. */
  origin: string;
}

/** `$XDG_CACHE_HOME/lopt` or `~/.cache/lopt`. */
export async function userCacheDir(): Promise<string> {
  const path = await nodePath();
  const xdg = env().XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'lopt');
  const os = await nodeOs();
  return path.join(os.homedir(), '.cache', 'lopt');
}

/** The places to look for `dataset` (a directory name such as 'fashion-mnist'), in order. */
export async function searchLocations(dataset: string, explicitPath?: string): Promise<SearchLocation[]> {
  const path = await nodePath();
  const out: SearchLocation[] = [];
  if (explicitPath !== undefined) out.push({ dir: path.resolve(explicitPath), origin: 'options.path' });
  const dataDir = env().LOPT_DATA_DIR;
  out.push(
    dataDir
      ? { dir: path.resolve(dataDir, dataset), origin: `LOPT_DATA_DIR=${dataDir}` }
      : { dir: undefined, origin: `$LOPT_DATA_DIR/${dataset}` },
  );
  out.push({
    dir: path.join(await userCacheDir(), dataset),
    origin: 'user cache: $XDG_CACHE_HOME/lopt or ~/.cache/lopt',
  });
  return out;
}

/** Where a download goes when no directory is given: $LOPT_DATA_DIR/<dataset> or the user cache. */
export async function defaultDatasetDir(dataset: string): Promise<string> {
  const path = await nodePath();
  const dataDir = env().LOPT_DATA_DIR;
  return dataDir ? path.resolve(dataDir, dataset) : path.join(await userCacheDir(), dataset);
}
