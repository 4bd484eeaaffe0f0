// Worker-thread entry of DataParallelSteps (dataParallel.ts): registers tsx so that the TypeScript sources
// load in this thread too, whether the main thread runs under node, tsx or jest.
require('tsx/cjs/api').register();
require('./gradientWorker.ts');
