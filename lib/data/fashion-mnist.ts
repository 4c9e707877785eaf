/**
 * Fashion-MNIST (Xiao et al. 2017): 28x28 grey pictures of clothes in 10 classes, a drop-in replacement for
 * MNIST (same IDX files, sizes and splits) that is harder to get right.
 *
 * By default the files are read from where Debian's package `dataset-fashion-mnist` installs them
 * (`/usr/share/datasets/fashion-mnist`, gzipped IDX); `dir` reads them from anywhere. Options as `loadMnist`.
 *
 * @example
 * const { train, test } = loadFashionMnist({ final: true });  // train.x: [60000, 784]
 */
import { DatasetSplits } from './dataset';
import { IdxDatasetOptions, loadIdxDataset } from './mnist';

export type FashionMnistOptions = IdxDatasetOptions;

/** Where Debian's `dataset-fashion-mnist` puts the four gzipped IDX files. */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's class names, in label order. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

const HINT =
  'Get Fashion-MNIST with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or download the four IDX files ' +
  'from github.com/zalandoresearch/fashion-mnist and pass their directory (--data DIR)';

/** Loads Fashion-MNIST; splits and options as `loadMnist`. */
export function loadFashionMnist(options: FashionMnistOptions = {}): DatasetSplits {
  return loadIdxDataset('fashion-mnist', options.dir ?? FASHION_MNIST_DEFAULT_DIR, FASHION_MNIST_CLASSES, HINT, options);
}
