// The bench's Log Analytics: the Data Collector emulator on a worker thread of its own, so that checking and parsing a
// 4 MiB post does not hold up the MCAS emulator's answers, which in production come from another service. Started by
// startBenchStack (scripts/benchStack.ts); it answers 'summary' with what it accepted and 'close' by shutting down.
import { parentPort } from 'node:worker_threads';

import { startDataCollectorEmulator } from '../emulators/dataCollectorEmulator.js';
import { FAKE_WORKSPACE_ID, FAKE_WORKSPACE_KEY } from '../emulators/localStack.js';
import type { LogAnalyticsSummary } from './benchStack.js';

const port = parentPort;
if (!port) throw new Error('benchLogAnalyticsWorker.ts runs as a worker thread of the bench');
const emulator = await startDataCollectorEmulator({
  workspaceId: FAKE_WORKSPACE_ID,
  sharedKeyBase64: FAKE_WORKSPACE_KEY,
});
// Accepted rows are counted and dropped as they come, keeping only their ids: a 1,000,000-activity run posts about
// 3.8 GB of rows, which as objects would not fit beside the MCAS emulator on the bench machine.
let rows = 0;
const ids = new Set<unknown>();
function drain(): void {
  for (const batch of emulator.batches.splice(0)) {
    rows += batch.records.length;
    for (const row of batch.records) ids.add(row['ActivityId']);
  }
}
const draining = setInterval(drain, 50);
port.on('message', (message: 'summary' | 'close') => {
  if (message === 'close') {
    clearInterval(draining);
    void emulator.close().then(() => port.close());
    return;
  }
  drain();
  const accepted = emulator.requests.filter((request) => request.status === 200);
  const summary: LogAnalyticsSummary = {
    rows,
    distinct: ids.size,
    posts: accepted.length,
    postBytes: accepted.reduce((sum, request) => sum + request.bodyBytes, 0),
  };
  port.postMessage(summary);
});
port.postMessage(emulator.url);
