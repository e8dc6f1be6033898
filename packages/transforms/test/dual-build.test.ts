import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runScript } from '@lopt/test-utils';

/**
 * A process that loads both the ESM and the CJS build of @lopt/transforms (as a bundler or a
 * mixed app can) must patch tfjs once and share one state: vmap levels pushed by one copy are
 * seen by kernels intercepted by the other. The builds are made here the way tsup builds the
 * package, with @lopt/tree and @lopt/random inlined so that each build has its own copy of them too.
 */
let dir = '';
const SRC = fileURLToPath(new URL('../src/index.ts', import.meta.url));

beforeAll(async () => {
  // Inside the package, so that the builds resolve @tensorflow/tfjs as an installed copy would.
  const cache = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url));
  await mkdir(cache, { recursive: true });
  dir = await mkdtemp(join(cache, 'lopt-dual-'));
  await build({
    entry: { transforms: SRC },
    format: ['esm', 'cjs'],
    outDir: dir,
    dts: false,
    silent: true,
    noExternal: [/^@lopt\//],
    external: [/^@tensorflow\//],
    target: 'es2022',
    tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)),
  });
  // The child runs from the repository (so @tensorflow/tfjs resolves) and loads the two builds.
  await writeFile(join(dir, 'paths.json'), JSON.stringify({ esm: join(dir, 'transforms.js'), cjs: join(dir, 'transforms.cjs') }));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

it('ESM and CJS builds in one process: tfjs patched once, state shared, numbers right', async () => {
  const r = await runScript(fileURLToPath(new URL('./fixtures/dual-load.ts', import.meta.url)), [join(dir, 'paths.json')]);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  expect(out.distinctCopies).toBe(true);
  expect(out.patchedOnce).toBe(true);
  // vmap from the CJS copy over grad from the ESM copy (and the reverse) against a loop.
  expect(out.mixedErr).toBeLessThan(1e-6);
  expect(out.reverseErr).toBeLessThan(1e-6);
  expect(out.secondOrderErr).toBeLessThan(1e-5);
}, 120_000);
