import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKLOADS } from '../src/workloads/index.js';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const out = mkdtempSync(join(tmpdir(), 'lopt-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Runs the bench CLI as `pnpm bench` does. */
function bench(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(join(root, 'node_modules/.bin/tsx'), ['--tsconfig', 'apps/bench/tsconfig.json', 'apps/bench/src/cli.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, LOPT_NO_PEERS: '1', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bench CLI', () => {
  it('--list names every workload and quality entry; --help adds the options; unknown names and bad numbers are refused', () => {
    const list = bench(['--list']);
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toBe('Workloads:');
    for (const w of WORKLOADS) expect(lines.some((l) => l.startsWith(`  ${w.id} `))).toBe(true);
    expect(lines).toContain('Quality tasks:');
    expect(lines).toContain('Quality optimizers:');
    const help = bench(['-h']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: pnpm bench [quality] [id ...] [options]');
    for (const f of ['--filter', '--repeats', '--backend', '--quick', '--peers', '--setup-peers', '--no-jit', '--list']) expect(help.stdout).toContain(f);
    expect(help.stdout).toContain(list.stdout.trim());
    const bad = bench(['mlp-step', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown workload 'nope'.");
    const badN = bench(['--repeats', '0']);
    expect(badN.code).toBe(2);
    expect(badN.stderr).toContain("--repeats must be an integer >= 1, got '0'");
    const none = bench(['--filter', 'zzz']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('No workload matches --filter zzz.');
    expect(`${list.stdout}${help.stdout}${bad.stderr}`).not.toMatch(/seed (document|0\d\d)|issue \d|shared\//i);
  });

  it('--quick runs every workload and writes bench.json with the expected fields, report.md and the chart', () => {
    const r = bench(['--quick', '--quiet', '--out', out]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
    expect(report.schema).toBe(1);
    expect(Object.keys(report.machine)).toEqual(['platform', 'arch', 'cpus', 'cpuModel', 'memoryGiB', 'freeGiB', 'loadavg']);
    expect(report.versions['@tensorflow/tfjs']).toBe('4.22.0');
    expect(report.options.quick).toBe(true);
    expect(report.options.backends).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    expect(report.peers.why).toBe('not asked (--peers)');
    expect(report.workloads.map((w: { id: string }) => w.id)).toEqual(WORKLOADS.map((w) => w.id));
    for (const w of report.workloads) {
      const def = WORKLOADS.find((d) => d.id === w.id)!;
      const runs = w.lopt.map((x: { backend: string; mode: string }) => `${x.backend} ${x.mode}`);
      for (const b of report.options.backends) if (!def.backends || def.backends.includes(b)) expect(runs).toContain(`${b} eager`);
      if (def.backends) for (const x of w.lopt) expect(def.backends).toContain(x.backend);
      for (const x of w.lopt) {
        expect(x.error, `${w.id} ${x.backend} ${x.mode}`).toBeUndefined();
        expect(Object.keys(x.stats)).toEqual(['n', 'median', 'min', 'max', 'mean', 'p10', 'p90', 'mad']);
        expect(x.stats.n).toBe(x.times.length);
        expect(x.leakedTensors, `${w.id} ${x.backend} ${x.mode} leaks`).toBe(0);
        if (x.mode === 'eager' && !def.offThread) expect(x.kernelsPerStep).toBeGreaterThan(0);
        if (def.offThread) expect(x.kernelsPerStep).toBeUndefined();
      }
      // Every backend and mode computes the same check value on the fixed input.
      const checks = w.lopt.map((x: { check?: number }) => x.check).filter((c: number | undefined) => c !== undefined);
      for (const c of checks) expect(Math.abs(c - checks[0]) / Math.max(1e-6, Math.abs(checks[0]))).toBeLessThan(1e-4);
    }
    const w1 = report.workloads.find((w: { id: string }) => w.id === 'w1-meta-lr');
    expect(w1.lopt[0].check).toBeCloseTo(1504.05, 1); // the torch and JAX peers print 1504.0507 and 1504.0509
    // 100 quick steps: the tensor count must be flat; RSS over so few steps is only reported.
    expect(report.memory.length).toBeGreaterThan(0);
    for (const m of report.memory) {
      expect(m.error, m.workload).toBeUndefined();
      expect(m.tensorGrowth, `${m.workload}: ${m.verdict}`).toBe(0);
    }
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| w1-meta-lr | lopt cpu jit |');
    expect(existsSync(join(out, 'speed.png'))).toBe(true);
    expect(r.stdout).toContain('| workload | run | median ms |');
  }, 300_000);
});

describe('bench --peers', () => {
  it('without a python that has torch or jax, says how to get them and runs lopt alone', () => {
    const r = bench(['mlp-step', '--peers', '--quick', '--quiet', '--no-jit', '--backend', 'cpu', '--repeats', '1', '--out', out], { LOPT_NO_PEERS: '', LOPT_PYTHON: '/nonexistent/python' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('No peers: LOPT_PYTHON=/nonexistent/python does not exist; to compare with PyTorch and JAX, run `pnpm bench --setup-peers`');
    expect(r.stdout).toMatch(/\| mlp-step \| lopt cpu eager \| /);
  }, 120_000);

  // Runs only where LOPT_PYTHON points at a python with torch and jax (e.g. after --setup-peers).
  it.skipIf(!process.env.LOPT_PYTHON)('PyTorch and JAX compute the same W1 check value as lopt and give ratios', () => {
    const r = bench(['w1-meta-lr', '--peers', '--quick', '--quiet', '--backend', 'cpu', '--memory-steps', '0', '--out', out], { LOPT_NO_PEERS: '' });
    expect(r.code, r.stderr).toBe(0);
    const w = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')).workloads[0];
    expect(w.peers.map((p: { framework: string }) => p.framework)).toEqual(['torch', 'jax']);
    expect(w.checks.torch.agree && w.checks.jax.agree, JSON.stringify(w.checks)).toBe(true);
    expect(w.ratios.map((x: { mode: string }) => x.mode)).toEqual(['eager', 'jit']);
    for (const x of w.ratios) expect(x.fastestPeer).toBeGreaterThan(0);
  }, 300_000);
});
