// Environment the connector's process should start with. Not read by src/config.ts: the C library reads it when the
// process starts, so the deployment sets it as an app setting (infra/modules/functionApp.bicep; app settings are the
// worker's environment) and local.settings.sample.json carries it for `func start`. The bench runs with it too.

/**
 * glibc's malloc serves allocations under its mmap threshold from one heap, which it can only shrink from the top.
 * Node allocates 64 KiB for every socket read and shrinks it to what was read; those blocks are freed only when V8
 * collects their Buffers, in between longer-lived ones, so over a long run the heap fragments and resident memory
 * creeps (143 to 153 MB over a 1,000,000-activity run, with V8's heap flat). At 64 KiB each such block gets its own
 * mapping, returned to the system when freed (BENCHMARKS.md, Memory). A fixed threshold also stops glibc from raising
 * it on its own. Linux with glibc only (Azure Functions on Linux); elsewhere it is ignored.
 */
export const PROCESS_ENVIRONMENT: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '65536',
};
