import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { adam, applyUpdates, chain, clipByGlobalNorm, type Optimizer } from '@lopt/optimizers';
import { foldIn, PRNGKey } from '@lopt/random';
import { loadTheta, saveTheta } from '@lopt/learned-optimizers/node';
import { initBackend, scope, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { writePng } from '../../../demo/src/plot.js';
import { progress } from '../progress.js';
import { machine, versions } from '../report.js';
import { round } from '../stats.js';
import { QUALITY_OPTIMIZERS } from './registry.js';
import type { QualityContext, QualityInstance, QualityOptimizer, QualityTask } from './types.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
/** Disjoint instance streams: evaluation, learning-rate tuning, meta-training. */
const EVAL = PRNGKey(20_260_001);
const TUNE = PRNGKey(20_260_002);
const TRAIN = PRNGKey(20_260_003);
const LR_GRID = { full: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1], quick: [1e-3, 1e-2, 0.1, 1] };

export interface QualityOptions {
  readonly tasks: readonly QualityTask[];
  readonly optimizers?: readonly QualityOptimizer[];
  readonly quick?: boolean;
  /** Evaluation seeds per task (default 3; 2 with quick). */
  readonly seeds?: number;
  readonly backend?: string;
  /** Where meta-trained theta is saved and looked for (default .lopt/quality). */
  readonly thetaDir?: string;
  readonly quiet?: boolean;
  readonly filter?: string;
}

export interface QualityRow {
  readonly task: string;
  readonly optimizer: string;
  readonly learningRate?: number;
  /** Where theta came from: meta-trained here (iterations, seconds) or loaded. */
  readonly theta?: string;
  /** Mean and std over seeds of the loss at these steps. */
  readonly lossAt: ReadonlyArray<{ step: number; mean: number; std: number }>;
  /** Steps until the loss first reaches the task's target: mean and std over the seeds that reach it. */
  readonly stepsToTarget: { mean?: number; std?: number; reached: number; of: number };
  /** Mean loss curve over seeds. */
  readonly curve: number[];
  readonly error?: string;
}

export interface QualityReport {
  readonly schema: 1;
  readonly date: string;
  readonly machine: ReturnType<typeof machine>;
  readonly versions: Record<string, string>;
  readonly backend: string;
  readonly quick: boolean;
  readonly seeds: number;
  readonly tasks: Array<{ id: string; title: string; steps: number; target: number; logY: boolean }>;
  readonly rows: QualityRow[];
  readonly wallSeconds: number;
}

/** One optimisation run: the (eval) loss before each step and after the last. */
function optimise(opt: Optimizer, inst: QualityInstance, steps: number): number[] {
  let state = opt.init(inst.init, { numSteps: steps });
  const losses: number[] = [];
  const vg = valueAndGrad((p: unknown, t: number) => inst.loss(p, t), { argnums: 0 } as never);
  for (let t = 0; t <= steps; t++) {
    const next = scope(() => {
      const params = opt.getParams(state);
      if (t === steps) return { loss: inst.evalLoss ? inst.evalLoss(params, t) : inst.loss(params, t), state: undefined };
      const [loss, g] = (vg as (p: unknown, t: number) => [tf.Scalar, unknown])(params, t);
      const reported = inst.evalLoss ? inst.evalLoss(params, t) : loss;
      return { loss: reported, state: opt.update(state, g, { loss }) };
    });
    losses.push(next.loss.dataSync()[0]!);
    next.loss.dispose();
    if (next.state !== undefined) {
      tree.dispose(state);
      state = next.state;
    }
  }
  tree.dispose(state);
  return losses;
}

const meanStd = (xs: readonly number[]) => {
  const m = xs.reduce((p, x) => p + x, 0) / xs.length;
  return { mean: m, std: Math.sqrt(xs.reduce((p, x) => p + (x - m) ** 2, 0) / Math.max(1, xs.length - 1)) };
};
/** Final-tenth mean of a curve: the tuning score (NaN or Inf: never chosen). */
const score = (c: readonly number[]) => {
  const tail = c.slice(Math.floor(c.length * 0.9));
  const s = tail.reduce((p, x) => p + x, 0) / tail.length;
  return Number.isFinite(s) ? s : Infinity;
};

/**
 * Meta-trains a learned optimizer on training instances of the task: truncated unrolls of
 * `unroll` steps whose mean log loss is differentiated through the inner steps with respect to theta,
 * Adam on theta (meta-gradient clipped to global norm 1), the inner state carried over and reset to a new instance every `steps` steps.
 */
async function metaTrain(o: QualityOptimizer, ctx: QualityContext, steps: number, tick: () => void): Promise<{ theta: unknown; iterations: number; seconds: number; skipped: number }> {
  const l = o.learned!;
  const iterations = ctx.quick ? (l.metaSteps?.quick ?? 15) : (l.metaSteps?.full ?? 150);
  const unroll = l.unroll ?? 10;
  const metaOpt = chain(clipByGlobalNorm(1), adam(l.metaLr ?? 1e-3));
  let theta = l.lopt.init(PRNGKey(0));
  let metaState = metaOpt.init(theta);
  let instIndex = 0;
  let inst = await ctx.trainInstance(instIndex);
  let t = 0;
  let state = l.lopt.optFn(theta, true).init(inst.init, { numSteps: steps });
  let skipped = 0;
  const t0 = performance.now();
  const metaLoss = (th: unknown, s0: unknown, start: number) => {
    const opt = l.lopt.optFn(th, true);
    let s = s0;
    let total: tf.Tensor = tf.scalar(0);
    for (let j = 0; j < unroll; j++) {
      const [loss, g] = valueAndGrad((p: unknown) => inst.loss(p, start + j))(opt.getParams(s));
      // The mean log loss: scale-free across instances whose losses differ by orders of magnitude.
      total = tf.add(total, tf.log(tf.add(loss, 1e-8)));
      s = opt.update(s, g, { loss });
    }
    return [tf.div(total, unroll) as tf.Scalar, s] as const;
  };
  const vg = valueAndGrad(metaLoss, { hasAux: true });
  for (let it = 0; it < iterations; it++) {
    if (t + unroll > steps) {
      tree.dispose(state);
      inst.dispose();
      inst = await ctx.trainInstance(++instIndex);
      state = l.lopt.optFn(theta, true).init(inst.init, { numSteps: steps });
      t = 0;
    }
    const next = scope(() => {
      const [[value, s], g] = vg(theta, state, t);
      const finite = tf.all(tf.isFinite(tf.concat((tree.leaves(g) as tf.Tensor[]).map((x) => tf.reshape(x, [-1]))))).dataSync()[0] === 1;
      // NaN/Inf meta-gradients are skipped and counted, never written into theta.
      if (!finite || !Number.isFinite(value.dataSync()[0]!)) return { ok: 0, s };
      const [updates, ms] = metaOpt.update(g, metaState);
      return { ok: 1, s, theta: applyUpdates(theta, updates), metaState: ms };
    });
    tree.dispose(state);
    state = next.s;
    if (next.ok === 1) {
      tree.dispose([theta, metaState]);
      theta = next.theta!;
      metaState = next.metaState!;
    } else skipped++;
    t += unroll;
    tick();
  }
  tree.dispose([state, metaState]);
  inst.dispose();
  return { theta, iterations, seconds: round((performance.now() - t0) / 1000, 3), skipped };
}

/** `pnpm bench quality`: every optimizer on every task, over seeds; no files written. */
export async function runQuality(o: QualityOptions): Promise<QualityReport> {
  const t0 = performance.now();
  tf.env().set('IS_TEST', true);
  const backend = await initBackend(o.backend ?? 'cpu');
  const quick = o.quick ?? false;
  const seeds = o.seeds ?? (quick ? 2 : 3);
  const thetaDir = resolve(ROOT, o.thetaDir ?? '.lopt/quality');
  const optimizers = o.optimizers ?? QUALITY_OPTIMIZERS;
  const grid = quick ? LR_GRID.quick : LR_GRID.full;
  const pairs = o.tasks.flatMap((task) => optimizers.filter((op) => !op.tasks || op.tasks.includes(task.id)).map((op) => [task, op] as const));
  const bar = progress(pairs.reduce((p, [, op]) => p + seeds + (op.baseline ? grid.length : 0) + (op.learned ? (quick ? (op.learned.metaSteps?.quick ?? 15) : (op.learned.metaSteps?.full ?? 150)) : 0), 0), o.quiet ?? false);
  const rows: QualityRow[] = [];
  try {
    for (const [task, op] of pairs) {
      const steps = quick ? task.steps.quick : task.steps.full;
      const inst = async (root: ReturnType<typeof PRNGKey>, i: number) => task.instance(foldIn(root, i), { quick });
      const curveOf = async (opt: Optimizer, root: ReturnType<typeof PRNGKey>, i: number) => {
        const x = await inst(root, i);
        try {
          return optimise(opt, x, steps);
        } finally {
          x.dispose();
        }
      };
      const ctx: QualityContext = { task, quick, thetaDir, trainInstance: (i) => inst(TRAIN, i).then((x) => x), log: (s) => console.error(s) };
      try {
        let opt: Optimizer;
        let learningRate: number | undefined;
        let thetaNote: string | undefined;
        let theta: unknown;
        if (op.baseline) {
          bar.tick(0, `${task.id} ${op.id} lr search`);
          let best = { lr: grid[0]!, s: Infinity };
          for (const lr of grid) {
            const s = score(await curveOf(op.baseline(lr), TUNE, 0));
            if (s < best.s) best = { lr, s };
            bar.tick();
          }
          learningRate = best.lr;
          opt = op.baseline(best.lr);
        } else if (op.learned) {
          const file = join(thetaDir, `${op.id}-${task.id}${quick ? '-quick' : ''}.safetensors`);
          if (existsSync(file)) {
            theta = await loadTheta(file, op.learned.lopt);
            thetaNote = `loaded ${file}`;
            bar.tick(quick ? (op.learned.metaSteps?.quick ?? 15) : (op.learned.metaSteps?.full ?? 150));
          } else {
            bar.tick(0, `${task.id} ${op.id} meta-training`);
            const r = await metaTrain(op, ctx, steps, () => bar.tick());
            theta = r.theta;
            await mkdir(thetaDir, { recursive: true });
            await saveTheta(file, op.learned.lopt, theta);
            thetaNote = `meta-trained: ${r.iterations} iterations in ${r.seconds} s${r.skipped ? ` (${r.skipped} non-finite skipped)` : ''}, saved to ${file}`;
          }
          opt = op.learned.lopt.optFn(theta, false);
        } else {
          opt = await op.prepare!(ctx);
        }
        bar.tick(0, `${task.id} ${op.id} evaluation`);
        const curves: number[][] = [];
        for (let s = 0; s < seeds; s++) {
          curves.push(await curveOf(opt, EVAL, s));
          bar.tick();
        }
        if (theta !== undefined) tree.dispose(theta);
        const at = [...new Set([Math.round(steps / 10), Math.round(steps / 2), steps])];
        const reach = curves.map((c) => c.findIndex((x) => x <= task.target)).filter((i) => i >= 0);
        const st = reach.length ? meanStd(reach) : undefined;
        rows.push({
          task: task.id,
          optimizer: op.id,
          ...(learningRate !== undefined ? { learningRate } : {}),
          ...(thetaNote ? { theta: thetaNote } : {}),
          lossAt: at.map((step) => {
            const m = meanStd(curves.map((c) => c[step]!));
            return { step, mean: round(m.mean), std: round(m.std, 3) };
          }),
          stepsToTarget: { ...(st ? { mean: round(st.mean), std: round(st.std, 3) } : {}), reached: reach.length, of: seeds },
          curve: curves[0]!.map((_, i) => round(curves.reduce((p, c) => p + c[i]!, 0) / seeds)),
        });
      } catch (e) {
        rows.push({ task: task.id, optimizer: op.id, lossAt: [], stepsToTarget: { reached: 0, of: seeds }, curve: [], error: e instanceof Error ? e.message : String(e) });
      }
    }
  } finally {
    bar.stop();
  }
  return {
    schema: 1,
    date: new Date().toISOString(),
    machine: machine(),
    versions: versions(),
    backend,
    quick,
    seeds,
    tasks: o.tasks.map((t) => ({ id: t.id, title: t.title, steps: quick ? t.steps.quick : t.steps.full, target: t.target, logY: t.logY ?? true })),
    rows,
    wallSeconds: round((performance.now() - t0) / 1000, 4),
  };
}

const pm = (m: number, s: number) => `${m.toPrecision(4)} ± ${s.toPrecision(2)}`;

export function qualityTable(r: QualityReport): string {
  const lines: string[] = [];
  for (const t of r.tasks) {
    const rows = r.rows.filter((x) => x.task === t.id);
    const at = rows.find((x) => x.lossAt.length)?.lossAt.map((a) => a.step) ?? [];
    lines.push(
      `### ${t.id}: ${t.title}`,
      '',
      `| optimizer | lr | ${at.map((s) => `loss @ ${s}`).join(' | ')} | steps to ${t.target} |`,
      `|---|---|${at.map(() => '---|').join('')}---|`,
    );
    for (const x of rows) {
      if (x.error) {
        lines.push(`| ${x.optimizer} | failed: ${x.error.replace(/\|/g, '/').slice(0, 160)} |${at.map(() => ' |').join('')} |`);
        continue;
      }
      const stt = x.stepsToTarget.mean !== undefined ? `${pm(x.stepsToTarget.mean, x.stepsToTarget.std!)}${x.stepsToTarget.reached < x.stepsToTarget.of ? ` (${x.stepsToTarget.reached}/${x.stepsToTarget.of} seeds)` : ''}` : `never (0/${x.stepsToTarget.of})`;
      lines.push(`| ${x.optimizer} | ${x.learningRate ?? (x.theta?.startsWith('loaded') ? 'learned (loaded)' : 'learned')} | ${x.lossAt.map((a) => pm(a.mean, a.std)).join(' | ')} | ${stt} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Writes quality.json, quality.md and one PNG of mean loss curves per task; returns the terminal text. */
export async function writeQuality(r: QualityReport, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const pngs: string[] = [];
  for (const t of r.tasks) {
    const rows = r.rows.filter((x) => x.task === t.id && x.curve.length);
    if (!rows.length) continue;
    const file = `quality-${t.id}.png`;
    await writePng(resolve(outDir, file), {
      title: `${t.id}: mean loss over ${r.seeds} held-out seeds`,
      panels: [{ series: rows.map((x) => ({ name: x.optimizer, x: x.curve.map((_, i) => i), y: x.curve })), yLabel: 'loss', xLabel: 'step', logY: t.logY }],
    });
    pngs.push(file);
  }
  const table = qualityTable(r);
  await writeFile(resolve(outDir, 'quality.json'), `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(
    resolve(outDir, 'quality.md'),
    `# lopt bench quality\n\n${r.date} · backend ${r.backend}${r.quick ? ' · quick' : ''} · ${r.seeds} held-out seeds per task; baselines' learning rate tuned by log-space search on separate instances; learned optimizers meta-trained on separate instances.\n\n${table}\n${pngs.map((p) => `![${p}](${p})`).join('\n\n')}\n`,
  );
  const notes = r.rows.filter((x) => x.theta).map((x) => `- ${x.task} ${x.optimizer}: ${x.theta}`);
  return [table, ...notes, '', `${r.wallSeconds} s; wrote ${['quality.json', 'quality.md', ...pngs].map((f) => resolve(outDir, f)).join(', ')}`].join('\n');
}
