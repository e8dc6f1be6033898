import { expect, it, vi } from 'vitest';
import { initBackend } from '../src/index.js';

// An installed @tensorflow/tfjs-node whose addon cannot load (libtensorflow missing or built for
// another version): what Node throws when `pnpm install` keeps the link but .lopt/ is gone, or a
// hand-built addon lost its library.
vi.mock('@tensorflow/tfjs-node-gpu', () => {
  throw Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu'"), { code: 'ERR_MODULE_NOT_FOUND' });
});
vi.mock('@tensorflow/tfjs-node-gpu', () => {
  throw Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu'"), { code: 'ERR_MODULE_NOT_FOUND' });
});
vi.mock('@tensorflow/tfjs-node', () => {
  throw Object.assign(new Error('libtensorflow_cc.so.2: cannot open shared object file: No such file or directory'), { code: 'ERR_DLOPEN_FAILED' });
});

it("initBackend('tensorflow') reports why an installed tfjs-node failed to load", async () => {
  await expect(initBackend('tensorflow')).rejects.toThrow(
    "Backend 'tensorflow' is not available: @tensorflow/tfjs-node is installed but failed to load: libtensorflow_cc.so.2: cannot open shared object file",
  );
});
