// Loads the native backend in a child process the way lopt does (a dynamic import resolved from
// inside a package folder), runs one matMul, and checks that tfjs-node and lopt share one copy of
// @tensorflow/tfjs (so kernels, gradients and tensors meet in the same engine).
import { spawnSync } from 'node:child_process';

const PROBE = String.raw`
const { createRequire } = require('node:module');
const { realpathSync } = require('node:fs');
(async () => {
  const node = await import('@tensorflow/tfjs-node');
  const tf = node.default ?? node;
  const req = createRequire(realpathSync(require.resolve('@tensorflow/tfjs-node')));
  const tfjsOfNode = realpathSync(req.resolve('@tensorflow/tfjs/package.json'));
  const c = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));
  const got = Array.from(c.dataSync());
  console.log(JSON.stringify({
    backend: tf.getBackend(),
    product: got,
    tfVersion: tf.backend().binding?.TF_Version,
    tfjsNode: tf.version['tfjs-node'],
    tfjsOfNode,
  }));
})().catch((e) => { console.error(e && e.stack || String(e)); process.exit(1); });
`;

/** { ok, tfVersion, tfjsNode } or { ok: false, error }. `from` is the folder the import resolves from. */
export function verifyNativeBackend(from, tfjsReal) {
  const r = spawnSync(process.execPath, ['-e', PROBE], {
    cwd: from,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
  });
  if (r.status !== 0) return { ok: false, error: (r.stderr || r.error?.message || '').trim().split('\n').slice(-15).join('\n') };
  let v;
  try {
    v = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { ok: false, error: `unexpected output: ${r.stdout}` };
  }
  if (v.backend !== 'tensorflow') return { ok: false, error: `the current backend is '${v.backend}', not 'tensorflow'` };
  if (v.product.join(',') !== '19,22,43,50') return { ok: false, error: `matMul gave ${v.product}, expected 19,22,43,50` };
  if (v.tfjsOfNode !== `${tfjsReal}/package.json`) {
    return { ok: false, error: `tfjs-node loads its own @tensorflow/tfjs (${v.tfjsOfNode}), not the repository's (${tfjsReal}): two engines` };
  }
  return { ok: true, tfVersion: v.tfVersion, tfjsNode: v.tfjsNode };
}
