import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readmeBlocks } from '../../../packages/test-utils/src/readme.js';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const out = mkdtempSync(join(tmpdir(), 'lopt-bench-readme-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const EXAMPLE = 'apps/bench/src/examples/my-bench.ts';

function bench(args: string[]) {
  const r = spawnSync(join(root, 'node_modules/.bin/tsx'), ['--tsconfig', 'apps/bench/tsconfig.json', 'apps/bench/src/cli.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, LOPT_NO_PEERS: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('apps/bench README: your own task and optimizer', () => {
  it('the README shows src/examples/my-bench.ts as it is', () => {
    const blocks = readmeBlocks(join(root, 'apps/bench/README.md')).filter((b) => b.skip?.includes('--load'));
    expect(blocks).toHaveLength(1);
    expect(`${blocks[0]!.code}\n`).toBe(readFileSync(join(root, EXAMPLE), 'utf8'));
  });

  it('they appear in the speed table and the quality table', () => {
    const speed = bench(['--load', EXAMPLE, 'task-least-squares', 'opt-nesterov', '--quick', '--quiet', '--memory-steps', '0', '--backend', 'cpu', '--out', out]);
    expect(speed.code, speed.stderr).toBe(0);
    expect(speed.stdout).toMatch(/\| task-least-squares \| lopt cpu eager \| /);
    expect(speed.stdout).toMatch(/\| opt-nesterov \| lopt cpu jit \| /);
    const report = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
    expect(report.workloads.map((w: { id: string }) => w.id)).toEqual(['task-least-squares', 'opt-nesterov']);
    // One Adam step from the same start, eager and jit: the same loss.
    const checks = report.workloads[0].lopt.map((x: { check: number }) => x.check);
    expect(checks[1]).toBeCloseTo(checks[0], 4);

    const quality = bench(['quality', 'least-squares', '--load', EXAMPLE, '--optimizer', 'sgd,nesterov,learnable-adam', '--quick', '--quiet', '--theta-dir', out, '--out', out]);
    expect(quality.code, quality.stderr).toBe(0);
    expect(quality.stdout).toContain('### least-squares: least squares, 32 points in 8 dimensions');
    const q = JSON.parse(readFileSync(join(out, 'quality.json'), 'utf8'));
    const rows = Object.fromEntries(q.rows.map((r: { optimizer: string }) => [r.optimizer, r]));
    expect(Object.keys(rows)).toEqual(['sgd', 'learnable-adam', 'nesterov']);
    for (const r of Object.values(rows) as Array<{ error?: string; curve: number[]; lossAt: Array<{ step: number }> }>) {
      expect(r.error).toBeUndefined();
      expect(r.curve).toHaveLength(21);
      expect(r.lossAt.map((a) => a.step)).toEqual([2, 10, 20]);
    }
    // Tuned baselines make progress on least squares: the loss falls below a tenth of its start.
    expect(rows.nesterov.curve[20]).toBeLessThan(rows.nesterov.curve[0] / 10);
    expect(rows.sgd.learningRate).toBeGreaterThan(0);
    expect(rows['learnable-adam'].theta).toMatch(/^meta-trained: 15 iterations/);
  }, 300_000);
});
