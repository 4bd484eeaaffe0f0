// Builds the OHIF extension and mode as native ES modules: the viewer imports them by URL.
const path = require('path');

/** One ES-module bundle per entry, each in its own folder so chunks never mix. */
function esModuleBundle(name, entry) {
  return {
    name,
    mode: process.env.NODE_ENV === 'development' ? 'development' : 'production',
    devtool: 'source-map',
    entry: { index: entry },
    experiments: { outputModule: true },
    output: {
      path: path.resolve(__dirname, 'dist', name),
      filename: '[name].js',
      chunkFilename: 'chunks/[name].[contenthash:8].js',
      library: { type: 'module' },
      module: true,
      chunkFormat: 'module',
      chunkLoading: 'import',
      publicPath: 'auto',
      clean: true,
    },
    resolve: { extensions: ['.ts', '.tsx', '.js'] },
    module: {
      // import.meta.url must stay a runtime value: the bundles locate their neighbours with it.
      parser: { javascript: { importMeta: false, url: false } },
      rules: [
        { test: /\.tsx?$/, loader: 'ts-loader', options: { configFile: 'tsconfig.build.json' } },
      ],
    },
    performance: { hints: false },
    stats: { preset: 'errors-warnings', assets: true, assetsSpace: 50, groupAssetsByPath: false },
  };
}

module.exports = [
  esModuleBundle('extension', './extension/src/index.ts'),
  esModuleBundle('mode', './mode/src/index.ts'),
];
