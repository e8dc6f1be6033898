/** The one way into tfjs internals (see engine.ts); everything here is checked by guard.ts. */
export * from './engine.js';
export * from './backends.js';
export * from './guard.js';
