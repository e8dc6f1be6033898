import type { Example } from '../context.js';
import { metaLrTrainer } from '../train/meta-lr.js';

/**
 * optax's meta-learning notebook: learn RMSProp's learning rate sigmoid(η) by differentiating the
 * loss after 6 inner steps with respect to η, with Adam(0.03) as the outer optimiser.
 */
export const metaLr: Example = {
  name: 'meta-lr',
  title: "Meta-learning RMSProp's learning rate",
  source: "optax's meta-learning notebook",
  defaultSteps: 2000,
  defaultSeed: 0,
  // Every tensor here is a scalar: the cpu backend's per-op overhead is lower than wasm's.
  preferredBackend: 'cpu',
  async run(ctx) {
    // The training step is shared with the browser playground (apps/playground).
    const trainer = metaLrTrainer({ seed: ctx.seed, jit: ctx.jit });
    const learningRates = new Float64Array(ctx.steps);
    const thetas = new Float64Array(ctx.steps);
    const outerLosses = new Float64Array(ctx.steps);
    const times: number[] = [];
    const bar = ctx.progress(ctx.steps, 'outer steps');
    for (let step = 0; step < ctx.steps; step++) {
      const t0 = performance.now();
      const r = trainer.step();
      times.push(performance.now() - t0);
      learningRates[step] = r.learningRate;
      thetas[step] = r.theta;
      outerLosses[step] = r.outerLoss;
      if (step % 50 === 0 || step === ctx.steps - 1) bar.tick({ lr: learningRates[step]!.toFixed(4), theta: thetas[step]!.toFixed(3) });
      else bar.tick();
    }
    bar.stop();
    const { firstSamples: printed, initialTheta } = trainer;
    trainer.dispose();

    const x = Array.from({ length: ctx.steps }, (_, i) => i);
    await ctx.plot('meta-learning-rmsprop.png', {
      title: "Meta-learning RMSProp's learning rate",
      panels: [
        { series: [{ name: 'learning rate', x, y: learningRates }], yLabel: 'Learning rate', xLabel: 'Step', logY: true },
        { series: [{ name: 'theta', x, y: thetas }], yLabel: 'Theta', xLabel: 'Number of updates', logY: true },
      ],
    });
    const sorted = [...times].sort((a, b) => a - b);
    const at = (i: number) => (i < ctx.steps ? { step: i, learningRate: learningRates[i], theta: thetas[i] } : undefined);
    return {
      firstSamples: printed.map((s) => ({ x: Number(s.x.toFixed(3)), y: Number(s.y.toFixed(3)) })),
      initialTheta: initialTheta,
      finalLearningRate: learningRates[ctx.steps - 1],
      finalTheta: thetas[ctx.steps - 1],
      finalOuterLoss: outerLosses[ctx.steps - 1],
      msPerOuterStep: { median: Number(sorted[sorted.length >> 1]!.toFixed(4)), min: Number(sorted[0]!.toFixed(4)) },
      trajectory: [0, 1, 9, 99, 999, 1999].map(at).filter((v) => v !== undefined),
    };
  },
  report(s) {
    const samples = s.firstSamples as Array<{ x: number; y: number }>;
    return [
      ...samples.map((p) => `Sampled y = ${p.y.toFixed(3)}, x = ${p.x.toFixed(3)}`),
      `final learning rate sigmoid(eta) = ${(s.finalLearningRate as number).toFixed(5)} (started at 0.1)`,
      `final theta = ${(s.finalTheta as number).toFixed(5)} (true slope 10)`,
      `time per outer step: ${(s.msPerOuterStep as { median: number }).median} ms (median)`,
    ];
  },
};
