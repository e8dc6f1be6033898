import * as tf from '@tensorflow/tfjs';
import { optaxOptimizer, sgd } from '@lopt/optimizers';
import { normal, split } from '@lopt/random';
import { registerOptimizer, registerTask } from '../index.js';

// Your task: least squares on 32 random points in 8 dimensions, a new problem for each key.
registerTask({
  id: 'least-squares',
  title: 'least squares, 32 points in 8 dimensions',
  steps: { full: 100, quick: 20 },
  target: 1,
  instance(key) {
    const k = split(key, 3);
    const x = normal(k.at(0), [32, 8]);
    const y = normal(k.at(1), [32, 1]);
    const loss = (w: tf.Tensor) => tf.mean(tf.square(tf.sub(tf.matMul(x, w), y))) as tf.Scalar;
    return { init: normal(k.at(2), [8, 1]), loss, dispose: () => tf.dispose([x, y]) };
  },
});

// Your optimizer: SGD with Nesterov momentum; the quality suite tunes its learning rate.
registerOptimizer({
  id: 'nesterov',
  title: 'SGD with Nesterov momentum 0.9',
  baseline: (lr) => optaxOptimizer(sgd({ learningRate: lr, momentum: 0.9, nesterov: true })),
});
