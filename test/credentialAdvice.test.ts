import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AggregateAuthenticationError, CredentialUnavailableError } from '@azure/identity';

import { credentialAdvice, describeCredentialsTried, isRunningInAzure } from '../src/credentialAdvice.js';

/** What DefaultAzureCredential throws on a laptop with no sign-in (messages as @azure/identity 4.14 words them). */
function laptopFailure(): AggregateAuthenticationError {
  return new AggregateAuthenticationError(
    [
      new CredentialUnavailableError(
        'EnvironmentCredential is unavailable. No underlying credential could be used. To troubleshoot, visit https://aka.ms/azsdk/js/identity/environmentcredential/troubleshoot.',
      ),
      new CredentialUnavailableError(
        'ManagedIdentityCredential: Authentication failed. Message client_error: Error(s): Not Available\nHttp status code: 403\nHeaders: {"server":"proxy"}',
      ),
      new CredentialUnavailableError(
        'Visual Studio Code Authentication is not available. Ensure you have have Azure Resources Extension installed in VS Code.',
      ),
      new CredentialUnavailableError(
        "Azure CLI could not be found. Please visit https://aka.ms/azure-cli for installation instructions and then, once installed, authenticate to your Azure account using 'az login'.",
      ),
      new CredentialUnavailableError(
        'Error: Unable to execute PowerShell. Ensure that it is installed in your system.',
      ),
      new CredentialUnavailableError(
        "Please run 'azd auth login' from a command prompt to authenticate before using this credential.",
      ),
    ],
    'ChainedTokenCredential authentication failed.',
  );
}

describe('credentialAdvice', () => {
  it('off Azure, says to run az login and which credentials were tried, without the library dump', () => {
    const advice = credentialAdvice(laptopFailure(), {});
    assert.match(advice, /^no Azure sign-in was found on this machine\. Run az login /);
    assert.match(
      advice,
      /DefaultAzureCredential tried: environment variables \(not set up\), managed identity \(failed\), VS Code \(not set up\), Azure CLI \(not installed\), Azure PowerShell \(not installed\), Azure Developer CLI \(not signed in\)\.$/,
    );
    assert.doesNotMatch(advice, /aka\.ms|Http status|Headers|ChainedTokenCredential|managed identity answered/);
  });

  it('in Azure, speaks of the Function App identity and quotes only the first line of what it said', () => {
    const env = { IDENTITY_ENDPOINT: 'http://localhost:8081/msi/token' };
    assert.equal(isRunningInAzure(env), true);
    const advice = credentialAdvice(laptopFailure(), env);
    assert.match(
      advice,
      /^no managed identity answered for this app\. Turn on the Function App's system-assigned identity/,
    );
    assert.match(
      advice,
      /\(ManagedIdentityCredential: Authentication failed\. Message client_error: Error\(s\): Not Available\)$/,
    );
    assert.doesNotMatch(advice, /az login|Headers/);
  });

  it('reads a single credential error as well as a chain', () => {
    assert.equal(
      describeCredentialsTried(new CredentialUnavailableError('Azure CLI could not be found.')),
      'Azure CLI (not installed)',
    );
  });
});
