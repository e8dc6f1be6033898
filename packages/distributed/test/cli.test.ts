import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript, useTempDir } from '@lopt/test-utils';
import { loadConfig } from '../src/index.js';

const dir = useTempDir();

describe('the CLIs and config files', () => {
  it('--help of both CLIs, and a missing LOPT_REDIS_URL is a clear error', async () => {
    const [learner, worker, noUrl] = await Promise.all([
      runScript('packages/distributed/src/cli/learner.ts', ['--help']),
      runScript('packages/distributed/src/cli/worker.ts', ['--help']),
      runScript('packages/distributed/src/cli/worker.ts', ['--config', 'x.json'], { env: { LOPT_REDIS_URL: '' } }),
    ]);
    expect([learner.code, worker.code]).toEqual([0, 0]);
    expect(learner.stdout).toMatch(/^Usage: lopt-learner --config <file> --checkpoint-dir <dir>/);
    expect(worker.stdout).toMatch(/^Usage: lopt-worker --config <file>/);
    expect(worker.stdout).toContain('LOPT_REDIS_URL');
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toMatch(/^error: LOPT_REDIS_URL is not set/);
  });

  it('loads a JSON config built from @lopt exports and a module beside it', async () => {
    const cfg = await loadConfig('packages/distributed/test/fixtures/config.json');
    expect([cfg.run, cfg.slots, cfg.maxStaleness, cfg.learnedOptimizer.name, cfg.estimator.name, cfg.outerOptimizer.name]).toEqual(['json-run', 4, 1, 'LearnableSGD', 'TruncatedQuadratic', 'OptaxOptimizer']);
    const bad = join(dir(), 'bad.json');
    await writeFile(bad, JSON.stringify({ run: 'r', taskFamily: { use: 'fs#readFile' } }));
    await expect(loadConfig(bad)).rejects.toThrow(/config: taskFamily.use must name an export of an @lopt package or of a module beside the config/);
    await writeFile(bad, JSON.stringify({ run: 'r', taskFamily: { use: '@lopt/tasks#nope' } }));
    await expect(loadConfig(bad)).rejects.toThrow('config: taskFamily: @lopt/tasks has no export nope');
  });
});
