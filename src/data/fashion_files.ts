// data/fashion_files.ts — the four official Fashion-MNIST IDX files: their names, the MD5 of each official .gz (the
// dataset's README) and the SHA-256 of each decompressed file, so that the Node loader (src/node/fashion_mnist.ts)
// and the playground page (src/web/data.ts) refuse a corrupt or different copy alike. Plain data, browser-clean.

export interface FileInfo {
  name: string;
  /** MD5 of the official .gz (the dataset README) */
  gzMd5: string;
  /** SHA-256 of the decompressed IDX bytes */
  sha256: string;
}

export const FILES: Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', FileInfo> = {
  trainImages: {
    name: 'train-images-idx3-ubyte',
    gzMd5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  },
  trainLabels: {
    name: 'train-labels-idx1-ubyte',
    gzMd5: '25c81989df183df01b3e8a0aad5dffbe',
    sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  },
  testImages: {
    name: 't10k-images-idx3-ubyte',
    gzMd5: 'bef4ecab320f06d8554ea6380940ec79',
    sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  },
  testLabels: {
    name: 't10k-labels-idx1-ubyte',
    gzMd5: 'bb300cfdad3c16e7a12a480ee83cd310',
    sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
  },
};
