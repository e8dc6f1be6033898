import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, inParallel, relErr, runScript } from '@lopt/test-utils';

/**
 * lopt patches tfjs once, in a fixed order, whichever of its functions a program calls first.
 * Each case is a fresh process (fixtures/first-call.ts) that starts the backend with plain tfjs,
 * calls one lopt transform first, then composes all of them; every result must match its loop /
 * finite-difference / closed-form reference, and the initBackend-first run.
 */
const FIRST = ['initBackend', 'vmap', 'grad', 'valueAndGrad', 'hvp', 'scan', 'cond', 'customGradient', 'scope'] as const;
const SCRIPT = fileURLToPath(new URL('./fixtures/first-call.ts', import.meta.url));
// References by finite differences carry float32 truncation error; loops and closed forms do not.
const FD_PAIRS = new Set(['valueAndGrad', 'hvp', 'vmapOfHvp', 'gradOfScan', 'vmapOfGradOfScan', 'scopeOfValueAndGrad']);

interface ChildOut {
  backend: string;
  first: string;
  firstOut: number[];
  pairs: Record<string, [number[], number[]]>;
}

const results = new Map<string, ChildOut>();

beforeAll(async () => {
  const jobs = BACKENDS.flatMap((b) => FIRST.map((first) => async () => {
    const r = await runScript(SCRIPT, [b, first]);
    if (r.code !== 0) throw new Error(`first-call ${b} ${first} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
    const line = r.stdout.trim().split('\n').pop()!;
    results.set(`${b}/${first}`, JSON.parse(line) as ChildOut);
  }));
  await inParallel(jobs, 2);
}, 300_000);

describe.each(BACKENDS)('on %s, in a fresh process', (backend) => {
  it.each(FIRST)('%s called first: every composition matches its reference', (first) => {
    const out = results.get(`${backend}/${first}`)!;
    expect(out.backend).toBe(backend);
    expect(Object.keys(out.pairs).length).toBeGreaterThanOrEqual(10);
    for (const [name, [got, ref]] of Object.entries(out.pairs)) {
      const err = relErr(got, ref);
      expect(err, `${name}: [${got.join(', ')}] vs [${ref.join(', ')}]`).toBeLessThan(FD_PAIRS.has(name) ? 2e-3 : 1e-5);
    }
  });

  it.each(FIRST.filter((f) => f !== 'initBackend'))('%s called first gives the numbers of initBackend called first', (first) => {
    const base = results.get(`${backend}/initBackend`)!;
    const out = results.get(`${backend}/${first}`)!;
    for (const [name, [got]] of Object.entries(out.pairs)) expect(relErr(got, base.pairs[name]![0]), name).toBeLessThan(1e-6);
  });
});
