// Builds the OHIF extension and mode as native ES modules: the viewer imports them by URL.
const path = require('path');

/** One ES-module bundle per package, each in its own folder so chunks never mix. */
function esModuleBundle(name, entry) {
  return {
    name,
    mode: process.env.NODE_ENV === 'development' ? 'development' : 'production',
    devtool: 'source-map',
    entry,
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
    optimization: {
      // Library code stays in the lazily loaded chunk that imports it (TF.js core and layers in "tfjs",
      // each backend in its own) instead of anonymous vendor chunks.
      splitChunks: { cacheGroups: { defaultVendors: false } },
      minimizeOptions: {
        // Threaded wasm starts its workers with the source text of a function that tests a variable of
        // the enclosing scope with `typeof x !== "undefined"`; terser's rewrite to `x !== void 0`
        // throws a ReferenceError in the worker, where that scope does not exist.
        javascript: { compress: { passes: 2, typeofs: false } },
      },
    },
    performance: { hints: false },
    stats: { preset: 'errors-warnings', assets: true, assetsSpace: 50, groupAssetsByPath: false },
  };
}

module.exports = [
  esModuleBundle('extension', {
    index: './extension/src/index.ts',
    // The detection engine on its own, for pages other than the viewer (and the browser tests). TF.js
    // stays in lazily loaded chunks, shared with the extension.
    engine: './extension/src/core/engine/index.ts',
  }),
  esModuleBundle('mode', { index: './mode/src/index.ts' }),
];
