/**
 * The image datasets genphys knows, and their class names: browser-safe (the lab labels
 * its plots with them), unlike the file loading in datasets.ts.
 */

/** Names of the image datasets genphys knows. */
export type DatasetName = 'fashion-mnist' | 'mnist';

/** All dataset names, for option parsers and listings. */
export const DATASET_NAMES: readonly DatasetName[] = ['fashion-mnist', 'mnist'];

/** Class names, index = label value. Fashion-MNIST order from Xiao et al. (2017), Table 1. */
export const CLASS_NAMES: Readonly<Record<DatasetName, readonly string[]>> = {
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
};
