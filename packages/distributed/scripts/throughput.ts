// Meta-training throughput over a real redis-server: estimates applied per second with 1, 2 and 3
// worker processes, and the learner's own time per estimate. Usage (from the repository root):
//   npx tsx --tsconfig tsconfig.json packages/distributed/scripts/throughput.ts [--config <file>] [--steps N] [--repeats R]
// Prints one JSON line per measurement and a summary (min over repeats of the time per step).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnScript, startRedis, type SpawnedScript } from '@lopt/test-utils';
import { loadConfig, runLearner } from '../src/index.js';

const { values } = parseArgs({ options: { config: { type: 'string' }, steps: { type: 'string' }, repeats: { type: 'string' } } });
const config = values.config ?? 'packages/distributed/examples/pes-quadratic.config.ts';
const steps = Number(values.steps ?? 30);
const repeats = Number(values.repeats ?? 2);

const redis = await startRedis();
const cfg = await loadConfig(config);
const workers: SpawnedScript[] = [];
const summary: Array<Record<string, unknown>> = [];
try {
  for (let n = 1; n <= 3; n++) {
    const w = spawnScript('packages/distributed/src/cli/worker.ts', ['--config', config, '--name', `w${n}`], { env: { LOPT_REDIS_URL: redis.url } });
    workers.push(w);
    await w.waitFor((l) => l?.event === 'ready', 300_000);
    let best: Record<string, number> | null = null;
    for (let r = 0; r < repeats; r++) {
      const dir = await mkdtemp(join(tmpdir(), 'lopt-bench-'));
      const s = await runLearner(cfg, { redisUrl: redis.url, checkpointDir: dir, steps, log: () => {} });
      await rm(dir, { recursive: true, force: true });
      const m = { workers: n, applied: s.applied, wallS: s.wallS, appliedPerS: s.applied / s.wallS, learnerMsPerEstimate: (1000 * s.learnerS) / s.received, droppedStale: s.droppedStale };
      console.log(JSON.stringify(m));
      if (!best || m.appliedPerS > best.appliedPerS!) best = m;
    }
    summary.push(best!);
  }
} finally {
  await Promise.all(workers.map((w) => w.stop()));
  await redis.close();
}
console.log(`config ${config}, ${steps} steps, best of ${repeats}:`);
for (const m of summary) console.log(`  ${m.workers} worker(s): ${(m.appliedPerS as number).toFixed(2)} estimates applied/s; learner ${(m.learnerMsPerEstimate as number).toFixed(2)} ms per estimate; ${m.droppedStale} dropped as stale`);
process.exit(0);
