// The services a run talks to, as ServiceTargets: where each is, the setting that points at it, and what to check
// when it cannot be reached. Pure: built from the Config.
import type { CheckpointLocation, Config } from './config.js';
import { isLoopbackHost, type ServiceTarget, storageEndpoint } from './unreachable.js';

export function mcasTarget(config: Pick<Config, 'mcas'>): ServiceTarget {
  return {
    service: 'MCAS',
    url: config.mcas.portalUrl,
    setting: 'MCAS_PORTAL_URL',
    check:
      'Check MCAS_PORTAL_URL: it is the API URL shown beside your API token in the Defender for Cloud Apps portal ' +
      '(https://<tenant>.<region>.portal.cloudappsecurity.com), and this machine must be able to reach it (proxy, firewall).',
  };
}

export function sinkTarget(config: Pick<Config, 'sink' | 'logAnalytics'>): ServiceTarget {
  if (config.sink.kind === 'logsIngestion') {
    return {
      service: 'the Logs Ingestion API',
      url: config.sink.endpoint,
      setting: 'LOGS_INGESTION_ENDPOINT',
      check:
        "Check LOGS_INGESTION_ENDPOINT: the logs ingestion endpoint of the DCE (or DCR) in the DCR's region; a DCE " +
        'with public access turned off answers only on its private network.',
    };
  }
  return {
    service: 'Log Analytics (Data Collector API)',
    url: config.logAnalytics.endpoint,
    setting: 'LOG_ANALYTICS_WORKSPACE_ID / LOG_ANALYTICS_ENDPOINT',
    check:
      'Check LOG_ANALYTICS_WORKSPACE_ID (the workspace GUID), LOG_ANALYTICS_ENDPOINT and AZURE_CLOUD, and that this ' +
      'machine may reach the ods.opinsights host (proxy, firewall).',
  };
}

export function checkpointTarget(location: Exclude<CheckpointLocation, { kind: 'file' }>): ServiceTarget {
  const service = 'the checkpoint storage';
  if ('serviceUrl' in location) {
    return {
      service,
      url: location.serviceUrl,
      setting: 'AzureWebJobsStorage__blobServiceUri / AzureWebJobsStorage__accountName',
      check:
        "Check the storage account's name, and that its firewall or private endpoint lets this app in. From your own " +
        'machine, CHECKPOINT_STORE=file:.checkpoints keeps the checkpoint in a local folder instead.',
    };
  }
  const connectionString = location.connectionString.reveal();
  const url = storageEndpoint(connectionString);
  const development = /UseDevelopmentStorage=true/i.test(connectionString);
  const local = isLoopbackHost(new URL(url).hostname);
  return {
    service,
    url,
    setting: development ? 'AzureWebJobsStorage=UseDevelopmentStorage=true' : 'AzureWebJobsStorage',
    check: local
      ? 'Start Azurite (npm run azurite, in the project folder), or set CHECKPOINT_STORE=file:.checkpoints to keep ' +
        'the checkpoint in a local folder.'
      : 'Check the storage account in AzureWebJobsStorage, and that its firewall lets this machine in; or set ' +
        'CHECKPOINT_STORE=file:.checkpoints to keep the checkpoint in a local folder.',
  };
}
