/**
 * Variational autoencoders (Kingma & Welling, ICLR 2014): distributions and
 * likelihoods, configurable MLP/conv models with PyTorch- and Keras-matching
 * presets, training with resumable checkpoints, IWAE evaluation, plots, and the
 * Ising latent-space probe.
 */
export * from './distributions.js';
export * from './models.js';
export * from './presets.js';
export * from './train.js';
export * from './evaluate.js';
export * from './checkpoint.js';
export { VAE_CHECKPOINT_KIND, vaeCheckpointInput, vaeFromCheckpoint, type VaeCheckpointSource } from './checkpoint-codec.js';
export * from './plots.js';
export * from './data.js';
export * from './ising.js';
export * from './run.js';
