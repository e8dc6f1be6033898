import { initBackend, profileKernels, formatKernelProfile } from '@lopt/transforms';
import * as tf from '@tensorflow/tfjs';
import { w3Lstm } from '/work/wt/lopt-lstm/apps/bench/src/workloads/w3-lstm.ts';
const backend = await initBackend(process.env.B ?? 'wasm');
const useJit = process.env.JIT === '1';
const inst = await w3Lstm.setup({ backend, jit: useJit, quick: false });
console.log('check', inst.check!());
const reps = Number(process.env.R ?? 10);
const ts: number[] = [];
for (let i = 0; i < reps + 2; i++) { const t = performance.now(); await inst.step(); if (i >= 2) ts.push(performance.now() - t); }
ts.sort((a, b) => a - b);
console.log(backend, 'jit', useJit, 'min', ts[0]!.toFixed(1), 'median', ts[ts.length >> 1]!.toFixed(1), 'numTensors', tf.memory().numTensors);
const { report } = profileKernels(() => inst.step());
console.log(formatKernelProfile(report, 15));
inst.dispose();
console.log('numTensors after dispose', tf.memory().numTensors);
