import { makeContext } from '../../demo/src/context.js';

export interface Progress {
  tick(n?: number, label?: string): void;
  stop(): void;
}

/** The demo's progress bar on stderr (silent with quiet), counting timed steps; `label` says what runs now. */
export function progress(total: number, quiet: boolean): Progress {
  const bar = makeContext({ steps: total, seed: 0, outDir: '.', backend: '', jit: false, quiet: quiet || total <= 0 }).progress(total, 'bench');
  let what = '';
  return {
    tick(n = 1, label) {
      if (label !== undefined) what = label;
      for (let i = 0; i < n; i++) bar.tick({ now: what });
    },
    stop: () => bar.stop(),
  };
}
