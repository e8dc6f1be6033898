// A module that patches tfjs when it is imported (a gradient installs lopt's fixes): the
// sideEffects check must see this one, or it could not fail.
import * as tf from '@tensorflow/tfjs';
import { grad } from '@lopt/transforms';

tf.tidy(() => grad((x: tf.Tensor) => tf.sum(tf.square(x)) as tf.Scalar)(tf.scalar(1)));
