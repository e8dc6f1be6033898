// The README's example config (PES on a quadratic): its worker state goes through the wire
// format and back (checked against the worker's template) and PES continues from it exactly.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import { useBackend, treeValues } from '@lopt/test-utils';
import { buildTree, jobKey, initKey, readMessage, resolveConfig, specOf, writeMessage } from '../src/index.js';
import example from '../examples/pes-quadratic.config.js';

useBackend('cpu');

describe('the PES example config', () => {
  it('carries PES worker state through messages: the same estimate as in memory', () => {
    const cfg = resolveConfig(example);
    const theta = cfg.learnedOptimizer.init(PRNGKey(0));
    const s0 = cfg.estimator.initWorkerState(theta, initKey(0, 0));
    const spec = specOf(s0, 'state');
    const a = cfg.estimator.computeGradientEstimate(theta, jobKey(0, 0, 0), s0);
    const wire = buildTree<typeof a.state>(readMessage(writeMessage({}, { state: a.state }), 1 << 26), 'state', spec);
    const direct = cfg.estimator.computeGradientEstimate(theta, jobKey(0, 0, 1), a.state);
    const viaWire = cfg.estimator.computeGradientEstimate(theta, jobKey(0, 0, 1), wire);
    expect(treeValues(viaWire.grad)).toEqual(treeValues(direct.grad));
    expect(viaWire.metaLoss.dataSync()[0]).toBe(direct.metaLoss.dataSync()[0]);
    expect(Number.isFinite(direct.metaLoss.dataSync()[0]!)).toBe(true);
    tf.dispose([theta as never]);
  });
});
