/**
 * Entry of a data-parallel worker thread (./parallel.ts): a model replica on its own
 * TensorFlow.js backend, computing one shard's gradient per step. Bundled to
 * dist/parallel-worker.cjs beside the backend bundle.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serveReplica } from './parallel.js';

if (!parentPort) throw new Error('parallel-worker runs only as a worker thread');
// A failure here is an unhandled rejection: the thread ends and the main thread reports it.
void serveReplica(parentPort, workerData);
