/**
 * Serves the bundled Fashion-MNIST 8x8 files at `data/` (dev server) and copies them into the
 * built site, so the page loads them with fetch from its own origin.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plugin } from 'vite';

export function staticData(o: { dir: string; files: readonly string[]; urlPath?: string }): Plugin {
  const urlPath = o.urlPath ?? 'data';
  return {
    name: 'lopt:static-data',
    configureServer(server) {
      server.middlewares.use(`/${urlPath}`, (req, res, next) => {
        const name = (req.url ?? '').split('?')[0]!.replace(/^\//, '');
        if (!o.files.includes(name)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        createReadStream(join(o.dir, name)).on('error', next).pipe(res);
      });
    },
    async generateBundle() {
      for (const f of o.files) this.emitFile({ type: 'asset', fileName: `${urlPath}/${f}`, source: await readFile(join(o.dir, f)) });
    },
  };
}
