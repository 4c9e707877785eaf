/**
 * Data: the course's data sets, loaded into `Dataset`s, and a `DataLoader` that batches them.
 *
 * @example
 * const { train, val } = await loadDataset('mnist');
 * for (const { x, y } of new DataLoader(train, { batchSize: 128, shuffle: true, seed: 0 })) {
 *   // x: NDArray [b, 784], y: Int32Array
 * }
 */
export type { Dataset, DatasetSplits } from './dataset';
export { datasetSize, featureShape, heldOut, labelCounts, sliceDataset } from './dataset';
export { DataError } from './errors';
export type { SynthOptions } from './synthetic';
export { SYNTH_Q, SYNTH_THRESHOLD, loadSynth, synthLabel } from './synthetic';
export type { IdxArray, IdxData, IdxExpect } from './idx';
export { encodeIdxUbyte, isGzip, parseIdx, readIdx } from './idx';
export type { IdxDatasetOptions, MnistOptions } from './mnist';
export { MNIST_CLASSES, findIdxFile, loadIdxDataset, loadMnist, mnistDataDir } from './mnist';
export type { FashionMnistOptions } from './fashion-mnist';
export { FASHION_MNIST_CLASSES, FASHION_MNIST_DEFAULT_DIR, loadFashionMnist } from './fashion-mnist';
export type { Cifar10Options } from './cifar10';
export { CIFAR10_CLASSES, CIFAR10_STATS, loadCifar10, parseCifarBatch } from './cifar10';
export type { ImageCacheExpect, RawImages } from './cache';
export { ImageCacheError, cacheDirFor, readImageCache, userCacheDir, writeImageCache } from './cache';
export type { ImageEntry, ImageSource } from './image-folder';
export { decodeImage, decodeImages, imageSourceFromTar, isTarImagePath, openImageFolder, readTarFiles } from './image-folder';
export type { ChannelStats } from './normalize';
export { channelStats, normalizeChannels } from './normalize';
export type { Batch, DataLoaderOptions } from './loader';
export { DataLoader } from './loader';
export type { Augment, RandomCropFlipOptions } from './augment';
export { paddingFill, randomCropFlip } from './augment';
export { checkLimit, resolveValSize } from './split';
export type { DatasetName, LoadDatasetOptions } from './load-dataset';
export { DATASET_NAMES, isDatasetName, loadDataset } from './load-dataset';
