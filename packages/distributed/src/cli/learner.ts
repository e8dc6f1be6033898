#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { loadConfig, redisUrlFromEnv } from '../config.js';
import { runLearner } from '../learner.js';
import { ENV_HELP, main, parse } from './common.js';

const HELP = `Usage: lopt-learner --config <file> --checkpoint-dir <dir> [--steps <N>] [--stats-out <file>]

The central learner of distributed meta-training: holds theta, publishes each version, hands out
one job per unroll chain, applies gradient estimates from lopt-worker processes whose staleness is
within the config's bound (drops and counts the rest), and checkpoints atomically. Started again
with the same --checkpoint-dir, it resumes from the last checkpoint.

Options:
  --config <file>          the run's config: .json, .js or .ts (a .ts config needs tsx)
  --checkpoint-dir <dir>   where the checkpoint is written and resumed from
  --steps <N>              outer steps to reach (default: the config's steps)
  --stats-out <file>       also write the final figures there as JSON
  -h, --help               this text

Prints one JSON object per event on stdout; the last is {"event":"done", ...figures}.

${ENV_HELP}`;

main(async () => {
  const a = parse(process.argv.slice(2), { config: { type: 'string' }, 'checkpoint-dir': { type: 'string' }, steps: { type: 'string' }, 'stats-out': { type: 'string' } }, HELP);
  if (!a.config || !a['checkpoint-dir']) throw new Error(`--config and --checkpoint-dir are required (see lopt-learner --help)`);
  const redisUrl = redisUrlFromEnv();
  const cfg = await loadConfig(a.config);
  const steps = a.steps === undefined ? undefined : Number(a.steps);
  if (steps !== undefined && !(Number.isInteger(steps) && steps >= 1)) throw new Error(`--steps must be a positive integer, got ${a.steps}`);
  const stats = await runLearner(cfg, { redisUrl, checkpointDir: a['checkpoint-dir'], ...(steps ? { steps } : {}) });
  if (a['stats-out']) await writeFile(a['stats-out'], JSON.stringify(stats, null, 2));
});
