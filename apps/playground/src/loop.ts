/**
 * The worker's training loop, apart from the worker so that Node tests run it too: steps the
 * trainer until `steps`, a stop, or a step whose meta-loss or theta is not finite (a diverged run
 * ends as a stopped one, with the reason). Yields to the event loop every `yieldMs` so that a stop
 * message gets in, and hands the results over in batches.
 */
import type { StepResult, Trainer } from './examples/types.js';
import type { DoneReason } from './protocol.js';

export interface LoopOptions {
  readonly steps: number;
  readonly shouldStop: () => boolean;
  readonly onSteps: (from: number, results: StepResult[]) => void;
  readonly yieldMs?: number;
  readonly now?: () => number;
}

export interface LoopResult {
  readonly reason: DoneReason;
  readonly steps: number;
  readonly message: string;
  readonly last?: StepResult;
}

export async function trainLoop(trainer: Trainer, o: LoopOptions): Promise<LoopResult> {
  const now = o.now ?? (() => performance.now());
  const yieldMs = o.yieldMs ?? 40;
  let step = 0;
  let pending: StepResult[] = [];
  let last: StepResult | undefined;
  let lastFlush = now();
  const flush = () => {
    if (pending.length > 0) o.onSteps(step - pending.length, pending);
    pending = [];
    lastFlush = now();
  };
  while (step < o.steps) {
    if (o.shouldStop()) {
      flush();
      return { reason: 'stopped', steps: step, message: `Stopped after ${step} steps.`, ...(last && { last }) };
    }
    last = trainer.step();
    step++;
    pending.push(last);
    const bad = !Number.isFinite(last.metaLoss) ? `the meta-loss is ${last.metaLoss}` : last.nonFinite;
    if (bad !== undefined) {
      flush();
      return { reason: 'diverged', steps: step, message: `The run diverged: ${bad} at step ${step}. Stopped; try a smaller meta learning rate.`, last };
    }
    if (now() - lastFlush > yieldMs) {
      flush();
      await new Promise((r) => setTimeout(r, 0)); // lets a stop message in
    }
  }
  flush();
  return { reason: 'finished', steps: step, message: `Finished ${step} steps.`, ...(last && { last }) };
}
