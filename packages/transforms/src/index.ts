export { initBackend, getBackend, availableBackends, KNOWN_BACKENDS, type BackendName, type InitBackendOptions } from './backend.js';
export { grad, valueAndGrad, type GradOptions, type GradientsOf } from './grad.js';
export { hvp } from './hvp.js';
export { stopGradient, customGradient } from './stop-gradient.js';
export { vmap, type AxisSpec, type Batched, type VmapOptions } from './vmap.js';
export { isTraced } from './batching.js';
export { scan, cond, type ScanOptions } from './control.js';
export { scope, expectNoLeaks, countLeaks, type LeakReport } from './memory.js';
export { TfjsVersionError } from './internals/index.js';
