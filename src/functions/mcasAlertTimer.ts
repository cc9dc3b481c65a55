// The optional alerts timer: on the same schedule as the activities timer, it copies MCAS alerts into
// MCAS_Alert_Log when MCAS_ALERTS_ENABLED=true, with the same pipeline and a checkpoint of its own. Off, it does nothing.
import azureFunctions, { type InvocationContext, type Timer } from '@azure/functions';

// The library is a bundled CommonJS module, so ESM sees its exports only through the default import.
const { app } = azureFunctions;

export async function mcasAlertTimer(timer: Timer, context: InvocationContext): Promise<void> {
  const [{ readConfig }, { runOnce }, { ALERTS }, { tickTimes }] = await Promise.all([
    import('../config.js'),
    import('../runOnce.js'),
    import('../streams.js'),
    import('../runDeadlines.js'),
  ]);
  if ((process.env['TENANT_REGISTRY'] ?? '').trim() !== '') {
    // Many tenants: alerts are not fanned out per tenant; the deployment's own settings name no tenant to read.
    context.debug('TENANT_REGISTRY is set: the alerts timer does nothing in multi-tenant mode.');
    return;
  }
  if (!readConfig(process.env).alertsEnabled) {
    context.debug('MCAS alerts are off (MCAS_ALERTS_ENABLED is not true); nothing to do.');
    return;
  }
  if (timer.isPastDue) context.warn('Alerts timer is past due; catching up from its checkpoint.');
  // Like the activities run, it ends before the next tick and counts its requests against the same per-minute limit
  // (one pacer per tenant in this process), so the two timers together stay under MCAS's rate limit.
  const summary = await runOnce(process.env, context, { stream: ALERTS, schedule: tickTimes(timer) });
  context.info(`Summary ${JSON.stringify(summary)}`);
}

// The schedule setting is shared: the host resolves %MCAS_TIMER_SCHEDULE% for both timers, so no extra setting can be
// missing. runOnStartup stays false, as the library's docs advise.
app.timer('mcasAlertTimer', { schedule: '%MCAS_TIMER_SCHEDULE%', runOnStartup: false, handler: mcasAlertTimer });
