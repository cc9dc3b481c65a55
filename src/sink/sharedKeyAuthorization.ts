// The SharedKey Authorization header of the Log Analytics HTTP Data Collector API. Pure.
import { createHmac } from 'node:crypto';

export interface SharedKeyInput {
  workspaceId: string;
  /** The workspace key, already base64-decoded. */
  keyBytes: Buffer;
  /** RFC 1123 date, the same string sent as x-ms-date. */
  rfc1123Date: string;
  /** UTF-8 byte length of the exact body sent. A character count gets 403 on non-ASCII bodies. */
  contentLengthBytes: number;
}

/**
 * `SharedKey <workspaceId>:<base64 HMAC-SHA256 of the string to sign>`, where the string to sign is
 * "POST\n<bytes>\napplication/json\nx-ms-date:<date>\n/api/logs" (Microsoft's Data Collector API reference).
 */
export function sharedKeyAuthorization(input: SharedKeyInput): string {
  const stringToSign = `POST\n${input.contentLengthBytes}\napplication/json\nx-ms-date:${input.rfc1123Date}\n/api/logs`;
  const signature = createHmac('sha256', input.keyBytes).update(stringToSign, 'utf8').digest('base64');
  return `SharedKey ${input.workspaceId}:${signature}`;
}
