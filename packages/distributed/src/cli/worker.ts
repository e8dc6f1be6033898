#!/usr/bin/env node
import { loadConfig, redisUrlFromEnv } from '../config.js';
import { startWorker } from '../worker.js';
import { ENV_HELP, main, parse } from './common.js';

const HELP = `Usage: lopt-worker --config <file> [--name <name>] [--delay-ms <ms>]

A worker of distributed meta-training: takes jobs of the config's run, pulls the latest theta,
computes the gradient estimate with the config's estimator from the worker state carried in the
job, and pushes estimate and new state back to lopt-learner. Keeps nothing between jobs, so any
number of workers can come and go; a job of a killed worker is retried by another. Runs until
SIGINT / SIGTERM.

Options:
  --config <file>   the run's config (the same file as the learner's)
  --name <name>     shown in logs (default worker-<pid>)
  --delay-ms <ms>   wait this long inside every estimate (fault drills)
  -h, --help        this text

${ENV_HELP}`;

main(async () => {
  const a = parse(process.argv.slice(2), { config: { type: 'string' }, name: { type: 'string' }, 'delay-ms': { type: 'string' } }, HELP);
  if (!a.config) throw new Error('--config is required (see lopt-worker --help)');
  const redisUrl = redisUrlFromEnv();
  const cfg = await loadConfig(a.config);
  const delayMs = a['delay-ms'] === undefined ? 0 : Number(a['delay-ms']);
  const w = await startWorker(cfg, { redisUrl, ...(a.name ? { name: a.name } : {}), ...(delayMs > 0 ? { delayMs } : {}) });
  const stop = () => void w.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await w.closed;
});
