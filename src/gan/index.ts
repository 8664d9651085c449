/**
 * Generative adversarial networks: presets and configs, the two networks, the
 * objectives (with the WGAN-GP penalty) and spectral normalisation. The trainer
 * ({@link GanTrainer}, train.ts) uses {@link Gan.generatorParams} / {@link Gan.discriminatorParams};
 * checkpoint-codec.ts builds a run's config.json and checkpoint content (browser-safe).
 */
export * from './presets.js';
export * from './networks.js';
export * from './losses.js';
export * from './spectral.js';
export * from './train.js';
export * from './checkpoint-codec.js';
