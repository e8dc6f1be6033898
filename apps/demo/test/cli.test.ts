import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useDemoDir } from './helpers.js';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const tsx = join(root, 'node_modules/.bin/tsx');

/** Runs the demo CLI as `pnpm demo` does (tsx with the demo's tsconfig), from the repository root. */
function demo(args: string[]) {
  const r = spawnSync(tsx, ['--tsconfig', 'apps/demo/tsconfig.json', 'apps/demo/src/cli.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, INIT_CWD: root, LOPT_BACKEND: '' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tempDir = useDemoDir('lopt-demo-cli-');

describe('demo CLI', () => {
  it('--json prints the summary alone on stdout, --json-out writes the same JSON to a file', async () => {
    const file = join(tempDir(), 'nested', 'summary-copy.json');
    const r = demo(['meta-lr', '--steps', '2', '--out', tempDir(), '--json', '--json-out', file]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.example).toBe('meta-lr');
    expect(s.source).toBe("optax's meta-learning notebook");
    expect(s.steps).toBe(2);
    // The notebook's first printed sample (jax: x = 7.184, y = 72.695).
    expect(s.firstSamples[0]).toEqual({ x: 7.184, y: 72.695 });
    expect(s.files).toEqual(['meta-learning-rmsprop.png', 'summary.json']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(s);
    expect(JSON.parse(await readFile(join(tempDir(), 'summary.json'), 'utf8'))).toEqual(s);
    expect(r.stdout).not.toMatch(/seed (document|0\d\d)/i);
  });

  it('--help lists the examples by source and says how to get valid JSON through pnpm', () => {
    const r = demo(['--help']);
    expect(r.code).toBe(0);
    // Names are padded to the longest one.
    expect(r.stdout).toMatch(/meta-lr +Meta-learning RMSProp's learning rate \(after optax's meta-learning notebook; 2000 steps\)/);
    expect(r.stdout).toMatch(/lopt-fmnist +Learned optimizers for a Fashion-MNIST 8x8 MLP .*\(after No dependency introduction to learned optimizers in JAX; 5 steps\)/);
    expect(r.stdout).toContain('pnpm -s demo <name> --json');
    expect(r.stdout).toContain('--json-out FILE');
    expect(r.stdout).not.toMatch(/seed (document|0\d\d)/i);
    const bad = demo(['nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown example 'nope'.");
  });
});
