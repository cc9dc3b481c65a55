// The timer trigger: thin. It warns when past due, runs one cycle, and lets a failure propagate so the invocation
// shows as failed (and an alert can fire); the checkpoint stays where the last accepted batch put it.
import azureFunctions, { type InvocationContext, type Timer } from '@azure/functions';

// The library is a bundled CommonJS module, so ESM sees its exports only through the default import.
const { app } = azureFunctions;

export async function mcasActivityTimer(timer: Timer, context: InvocationContext): Promise<void> {
  if (timer.isPastDue) context.warn('Timer is past due; catching up from the checkpoint.');
  // Loaded here, not at import: the host indexes this module at cold start, and a bad setting should fail a run
  // with a clear error in its invocation log rather than break the module's import.
  if ((process.env['TENANT_REGISTRY'] ?? '').trim() !== '') {
    // Many tenants: this tick only enqueues one run per tenant; the queue function ingests them (mcasTenantRun).
    const { enqueueTenantRuns } = await import('../tenants/tenantQueue.js');
    await enqueueTenantRuns(process.env, context);
    return;
  }
  const [{ runOnce }, { tickTimes }] = await Promise.all([import('../runOnce.js'), import('../runDeadlines.js')]);
  const summary = await runOnce(process.env, context, { schedule: tickTimes(timer) });
  context.info(`Summary ${JSON.stringify(summary)}`);
}

// No function-level retry: the next tick and the checkpoint already re-run safely.
app.timer('mcasActivityTimer', { schedule: '%MCAS_TIMER_SCHEDULE%', runOnStartup: false, handler: mcasActivityTimer });
