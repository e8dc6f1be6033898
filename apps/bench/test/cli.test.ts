import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** Runs the bench CLI as `pnpm bench` does; only the modes that run no benchmark. */
function bench(args: string[]) {
  const r = spawnSync(join(root, 'node_modules/.bin/tsx'), ['--tsconfig', 'apps/bench/tsconfig.json', 'apps/bench/src/cli.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bench CLI', () => {
  it('--list names every benchmark with its source; --help adds the options; unknown names are refused', () => {
    const list = bench(['--list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n')).toEqual([
      'Benchmarks:',
      "  meta-lr   optax's meta-learning notebook: one outer step of meta-learning RMSProp's learning rate",
      "  mlp-step  learned_optimization's no-dependency notebook: Fashion-MNIST 8x8 MLP loss+grad at batch 128",
      '  vmap-mlp  vmap of the MLP loss gradient over 8 tasks vs one task and a JS loop',
    ]);
    const help = bench(['-h']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: pnpm bench [name ...] [--backend B] [--out DIR] [--no-peers]');
    expect(help.stdout).toContain('--list');
    expect(help.stdout).toContain(list.stdout.trim());
    const bad = bench(['mlp-step', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown benchmark 'nope'.");
    expect(`${list.stdout}${help.stdout}${bad.stderr}`).not.toMatch(/seed (document|0\d\d)|issue \d|shared\//i);
  });
});
