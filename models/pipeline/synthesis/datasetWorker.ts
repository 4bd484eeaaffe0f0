/** The dataset worker thread, loaded through datasetWorker.cjs: runs the producer side of the protocol. */
import { parentPort, workerData } from 'node:worker_threads';
import { runDatasetProducer, type DatasetJob } from './dataset';

if (!parentPort)
  throw new Error('datasetWorker.ts runs in a worker thread started by streamDataset');
void runDatasetProducer(parentPort, workerData as DatasetJob);
